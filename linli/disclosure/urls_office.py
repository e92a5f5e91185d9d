"""The board's back office (views_office), included by linli.disclosure.urls at
``<code>/office/``: names ``disclosure:office…``."""

from django.urls import path

from . import views_office as views

urlpatterns = [
    path("", views.office, name="office"),
    path("new/", views.new, name="office_new"),
    path("generate/", views.generate, name="office_generate"),
    path("duties/", views.duty_list, name="office_duties"),
    path("duties/new/", views.duty_edit, name="office_duty_new"),
    path("duties/<int:pk>/", views.duty_edit, name="office_duty"),
    path("e/<int:pk>/", views.detail, name="office_entry"),
    path("e/<int:pk>/edit/", views.edit, name="office_edit"),
    path("e/<int:pk>/correct/", views.correct, name="office_correct"),
    path("e/<int:pk>/move/<slug:name>/", views.move, name="office_move"),
    path("e/<int:pk>/file/<int:att>/", views.attachment, name="office_attachment"),
]
