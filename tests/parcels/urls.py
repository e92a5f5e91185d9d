from django.urls import path

from . import views

app_name = "parcels"
urlpatterns = [path("", views.mine, name="mine")]
