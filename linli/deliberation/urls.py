"""一月一议's URLs (namespace ``deliberation``), mounted at ``/deliberation/``."""

from django.urls import path

from . import views, views_office as office

app_name = "deliberation"

urlpatterns = [
    # The menu's link to the office (before <code>/, which would take "office" for a code).
    path("office/", office.index, name="office_index"),
    path("<str:code>/", views.home, name="home"),
    path("<str:code>/r/<int:pk>/", views.round_view, name="round"),
    path("<str:code>/r/<int:pk>/propose", views.propose, name="propose"),
    path("<str:code>/p/<int:pk>/", views.proposal_view, name="proposal"),
    path("<str:code>/p/<int:pk>/support", views.support, name="support"),
    path("<str:code>/p/<int:pk>/comment", views.comment, name="comment"),
    path("<str:code>/d/<int:pk>/", views.decision_view, name="decision"),
    path("<str:code>/d/<int:pk>/evaluate", views.evaluate, name="evaluate"),
    path("<str:code>/photo/<int:pk>", views.photo, name="photo"),
    path("<str:code>/m/<int:pk>/sign-in/<str:token>", views.sign_in, name="sign_in"),
    path("<str:code>/office/", office.office, name="office"),
    path("<str:code>/office/r/<int:pk>/", office.office_round, name="office_round"),
    path("<str:code>/office/r/<int:pk>/hotissue/<int:hid>", office.office_hotissue, name="office_hotissue"),
    path("<str:code>/office/p/<int:pk>/", office.office_proposal, name="office_proposal"),
    path("<str:code>/office/m/<int:pk>/", office.office_meeting, name="office_meeting"),
    path("<str:code>/office/d/<int:pk>/", office.office_decision, name="office_decision"),
]
