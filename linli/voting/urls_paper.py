"""The officers' booth and paper pages (included by ``linli.voting.urls``, namespace ``voting``),
under ``/votes/<code>/office/v/<vote id>/paper/``: see ``views_paper``. No code, name or number
ever travels in a URL: searches and codes are posted."""

from django.urls import path

from . import views_paper as views

P = "<str:code>/office/v/<int:vote_id>/paper/"

urlpatterns = [
    path(P, views.paper_home, name="paper_home"),
    path(P + "booths/new", views.paper_booth_new, name="paper_booth_new"),
    path(P + "b/<int:booth_id>/desk", views.paper_desk, name="paper_desk"),
    path(P + "b/<int:booth_id>/r/<int:resident_id>", views.paper_resident, name="paper_resident"),
    path(P + "b/<int:booth_id>/r/<int:resident_id>/ballot", views.paper_ballot, name="paper_ballot"),
    path(P + "b/<int:booth_id>/codes", views.paper_codes, name="paper_codes"),
    path(P + "b/<int:booth_id>/sheets.pdf", views.paper_sheets_pdf, name="paper_sheets_pdf"),
    path(P + "enter", views.paper_enter, name="paper_enter"),
    path(P + "resolve", views.paper_resolve, name="paper_resolve"),
    path(P + "spoil", views.paper_spoil, name="paper_spoil"),
    path(P + "poster.pdf", views.paper_poster, name="paper_poster"),
]
