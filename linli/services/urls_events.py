"""The services' events pages (docs/services.md, "Activities for all ages"); names join the
``services`` namespace."""

from django.urls import path

from . import views_events as views

urlpatterns = [
    path("events/", views.calendar, name="events"),
    path("events/mine/", views.my_events, name="my_events"),
    path("events/<int:pk>/", views.event_detail, name="event"),
    path("events/<int:pk>/scan/<str:code>/", views.event_scan, name="event_scan"),
    path("events/photo/<int:pk>/", views.event_photo, name="event_photo"),
    path("<str:code>/office/events/", views.office_events, name="office_events"),
    path("<str:code>/office/events/new", views.office_event_new, name="office_event_new"),
    path("<str:code>/office/events/<int:pk>/", views.office_event, name="office_event"),
    path("<str:code>/office/events/<int:pk>/qr/", views.event_qr, name="event_qr"),
    path("<str:code>/office/events/<int:pk>/qr.json", views.event_qr_state, name="event_qr_state"),
]
