"""The log's HTTP interface, mounted under ``disclosure/`` (docs/transparency.md)."""

from django.urls import path

from . import views, views_witness

app_name = "transparency"

urlpatterns = [
    path("<str:code>/log/key", views.key, name="key"),
    path("<str:code>/log/checkpoint", views.checkpoint, name="checkpoint"),
    path("<str:code>/log/entries", views.entries, name="entries"),
    path("<str:code>/log/proof/inclusion", views.inclusion, name="inclusion"),
    path("<str:code>/log/proof/consistency", views.consistency, name="consistency"),
    path("<str:code>/log/cosignature", views_witness.cosignature, name="cosignature"),
]
