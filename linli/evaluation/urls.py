"""The evaluation's pages (namespace ``evaluation``), mounted at ``/evaluation/``.

Public: ``<code>/`` (the years, and the ballot while it is open) and ``<code>/<year>/`` (the
published results). Staff: ``office/`` (the menu's link), ``<code>/office/`` (the list, a new
evaluation), ``<code>/office/<year>/`` (set up, turnout, results, responses, publish) and the
POST actions ``<code>/office/<year>/<action>``.
"""

from django.urls import path

from . import views

app_name = "evaluation"

urlpatterns = [
    path("office/", views.office_index, name="office_index"),
    path("<str:code>/", views.public_index, name="public"),
    path("<str:code>/<int:year>/", views.public_year, name="public_year"),
    path("<str:code>/office/", views.office, name="office"),
    path("<str:code>/office/<int:year>/", views.office_year, name="office_year"),
    path("<str:code>/office/<int:year>/<slug:action>", views.office_action, name="office_action"),
]
