"""The earn part's pages (docs/points.md, "Earning, caps, gifts and expiry"); names join ``points``."""

from django.urls import path

from . import views_earn

urlpatterns = [
    path("me", views_earn.mine, name="mine"),
    path("me/gift", views_earn.gift, name="gift"),
    path("<str:code>/office/rules", views_earn.office_rules, name="office_rules"),
]
