"""The catalogue, the resident's counter code, the counter, the office's catalogue and keys, and the
monthly settlement (docs/points.md, "Catalogue, partners and redemption"); names join ``points``."""

from django.urls import path

from . import views_redeem as views

urlpatterns = [
    path("catalogue/", views.catalogue_page, name="catalogue"),
    path("me/qr", views.my_qr, name="my_qr"),
    path("<str:code>/counter/", views.counter, name="counter"),
    path("<str:code>/counter/redemptions/<int:pk>/cancel", views.counter_cancel, name="counter_cancel"),
    path("<str:code>/office/", views.office, name="office"),
    path("<str:code>/office/partners/new", views.office_partner_create, name="office_partner_create"),
    path("<str:code>/office/items/new", views.office_item_create, name="office_item_create"),
    path("<str:code>/office/items/<int:pk>", views.office_item_update, name="office_item_update"),
    path("<str:code>/office/keys/new", views.office_key_create, name="office_key_create"),
    path("<str:code>/office/keys/<int:pk>/revoke", views.office_key_revoke, name="office_key_revoke"),
    path("<str:code>/office/settlement/", views.settlement, name="settlement"),
]
