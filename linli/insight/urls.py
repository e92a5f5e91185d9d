"""Pages and endpoints of linli.insight, under /insight/."""

from django.urls import path

app_name = "insight"

urlpatterns: list = []
