"""The office's ledger page and its reversal (docs/points.md, "The ledger"); names join ``points``."""

from django.urls import path

from . import views_ledger as views

urlpatterns = [
    path("<str:code>/office/ledger/", views.office_ledger, name="office_ledger"),
    path("<str:code>/office/ledger/<int:pk>/reverse", views.office_reverse, name="office_reverse"),
]
