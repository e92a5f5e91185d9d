"""The fund's pages (namespace ``funds``), mounted at ``/funds/`` (docs/funds.md, "Pages")."""

from django.urls import path

from . import views

app_name = "funds"

urlpatterns = [
    path("office/", views.office_index, name="office_index"),
    path("<str:code>/", views.calls, name="calls"),
    path("<str:code>/c/<int:call_id>/", views.call_detail, name="call"),
    path("<str:code>/c/<int:call_id>/submit", views.project_new, name="project_new"),
    path("<str:code>/p/<int:project_id>/", views.project_detail, name="project"),
    path("<str:code>/p/<int:project_id>/edit", views.project_edit, name="project_edit"),
    path("<str:code>/p/<int:project_id>/withdraw", views.project_withdraw, name="project_withdraw"),
    path("<str:code>/photo/<int:photo_id>", views.photo, name="photo"),
    path("<str:code>/office/", views.office, name="office"),
    path("<str:code>/office/new", views.office_new, name="office_new"),
    path("<str:code>/office/c/<int:call_id>/", views.office_call, name="office_call"),
    path("<str:code>/office/c/<int:call_id>/<slug:action>", views.office_call_action, name="office_call_action"),
    path("<str:code>/office/p/<int:project_id>/", views.office_project, name="office_project"),
    path("<str:code>/office/p/<int:project_id>/<slug:action>", views.office_project_action,
         name="office_project_action"),
]
