"""The people pages (docs/volunteers.md): joining, a guardian's consent, the office's volunteers,
teams and needs board. Names join the ``volunteers`` namespace."""

from django.urls import path

from . import views_people as views

urlpatterns = [
    path("join/", views.join, name="join"),
    path("consent/", views.consent, name="consent"),
    path("ask/", views.ask, name="ask"),
    path("office/", views.office_index, name="office_index"),
    path("<str:code>/office/", views.office, name="office"),
    path("<str:code>/office/volunteers/<int:pk>/", views.office_volunteer, name="office_volunteer"),
    path("<str:code>/office/teams/", views.office_teams, name="office_teams"),
    path("<str:code>/office/teams/<int:pk>/", views.office_team, name="office_team"),
    path("<str:code>/office/needs/", views.office_needs, name="office_needs"),
    path("<str:code>/office/needs/<int:pk>/", views.office_need, name="office_need"),
    path("<str:code>/office/cases/<int:case_pk>/hand/", views.office_case_hand, name="office_case_hand"),
]
