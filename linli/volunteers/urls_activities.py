"""Activities' pages (docs/volunteers.md, "Activities, sign-up and suggestions"); names join the
``volunteers`` namespace."""

from django.urls import path

from . import views_activities as views

urlpatterns = [
    path("activities/", views.activity_list, name="activities"),
    path("activities/<int:pk>/", views.activity_detail, name="activity"),
    path("<str:code>/office/activities/", views.office_activities, name="office_activities"),
    path("<str:code>/office/activities/new", views.office_activity_new, name="office_activity_new"),
    path("<str:code>/office/activities/<int:pk>/", views.office_activity, name="office_activity"),
]
