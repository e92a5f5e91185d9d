"""The services' rooms pages (docs/services.md, "Rooms"); names join the ``services`` namespace."""

from django.urls import path

from . import views_rooms as views

urlpatterns = [
    path("<str:code>/office/rooms/", views.office_rooms, name="office_rooms"),
    path("<str:code>/office/rooms/request/", views.office_room_request, name="office_room_request"),
    path("<str:code>/office/rooms/new", views.office_room, name="office_room_new"),
    path("<str:code>/office/rooms/<int:pk>/", views.office_room, name="office_room"),
]
