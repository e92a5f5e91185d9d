"""The services' bookings pages (docs/services.md, "Pages"); names join the ``services`` namespace."""

from django.urls import path

from . import views_bookings as views

urlpatterns = [
    path("", views.index, name="index"),
    path("s/<slug:service_code>/", views.service_detail, name="service"),
    path("slot/<int:pk>/book/", views.book, name="book"),
    path("mine/", views.mine, name="mine"),
    path("booking/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("office/", views.office_index, name="office_index"),
    path("<str:code>/office/", views.office, name="office"),
    path("<str:code>/office/service/<int:pk>/", views.office_service, name="office_service"),
    path("<str:code>/office/slot/<int:pk>/", views.office_slot, name="office_slot"),
    path("<str:code>/office/dashboard/", views.office_dashboard, name="office_dashboard"),
]
