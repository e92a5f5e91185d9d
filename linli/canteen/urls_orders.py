"""The canteen's residents' order pages and the counter (docs/canteen.md, "Orders", "Counter");
names join the ``canteen`` namespace."""

from django.urls import path

from . import views_orders as views, views_phone

urlpatterns = [
    path("", views.week, name="week"),
    path("meal/<int:pk>/", views.meal, name="meal"),
    path("mine/", views.mine, name="mine"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<str:code>/counter/", views.counter, name="counter"),
    path("<str:code>/counter/phone/", views_phone.phone_order, name="phone_order"),
]
