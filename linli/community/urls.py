from django.contrib.auth import views as auth_views
from django.urls import include, path

from linli.core.signin import SignInForm

from . import views, views_map, views_needs

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        # Throttled per account and per address; failures recorded (linli/core/signin.py).
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only
    path("me/", views.my_home, name="my_home"),
    path("console/", views.console_home, name="console"),
    path("console/residents/", views.resident_search, name="resident_search"),
    path("console/residents/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("console/households/<int:pk>/", views.household_detail, name="household_detail"),
    path("console/households/<int:pk>/needs/", views_needs.household_needs, name="household_needs"),
    path("console/needs/", views_needs.needs_list, name="needs_list"),
    path("console/needs/export.csv", views_needs.needs_export, name="needs_export"),
    path("console/needs/recompute/", views_needs.needs_recompute, name="needs_recompute"),
    path("console/events/", views.event_list, name="event_list"),
    path("console/street/", views.street_overview, name="street_overview"),
    path("console/import/", include("linli.community.urls_import")),
    path("map/<str:code>.json", views_map.community_map, name="community_map"),
]
