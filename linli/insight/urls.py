"""Pages and endpoints of linli.insight, under /insight/."""

from django.urls import path

from . import views

app_name = "insight"

urlpatterns = [
    path("reply-check", views.reply_check, name="reply_check"),
]
