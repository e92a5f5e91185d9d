"""The web import (docs/import.md). Included by linli/community/urls.py under console/import/."""

from django.urls import path

from . import views_import

urlpatterns = [
    path("", views_import.import_upload, name="import_upload"),
    path("<int:pk>/", views_import.import_preview, name="import_preview"),
    path("<int:pk>/confirm/", views_import.import_confirm, name="import_confirm"),
    path("<int:pk>/errors.csv", views_import.import_errors, name="import_errors"),
]
