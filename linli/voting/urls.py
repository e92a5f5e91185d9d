"""The voting pages (namespace ``voting``), mounted at ``/votes/`` (docs/voting.md).

The staff pages of processes and votes are here (``views_office``, under ``<code>/office/``);
the residents' ballot pages, the paper/booth pages and the public results come from the
modules of the helpers that own them, included below.
"""

from django.urls import include, path

from . import views_office as office

app_name = "voting"

urlpatterns = [
    path("office/", office.index, name="office_index"),
    path("<str:code>/office/", office.processes, name="office"),
    path("<str:code>/office/new", office.process_new, name="office_process_new"),
    path("<str:code>/office/p/<int:process_id>/", office.process_detail, name="office_process"),
    path("<str:code>/office/p/<int:process_id>/phases", office.process_phases, name="office_phases"),
    path("<str:code>/office/p/<int:process_id>/vote/new", office.vote_new, name="office_vote_new"),
    path("<str:code>/office/v/<int:vote_id>/", office.vote_detail, name="office_vote"),
    path("<str:code>/office/v/<int:vote_id>/move", office.vote_move, name="office_vote_move"),
]

# The other parts' pages: the ballot (residents), paper and booths (officers), results (public).
# These modules set no ``app_name``: their names join the ``voting`` namespace.
urlpatterns += [
    path("", include("linli.voting.urls_ballot")),
    path("", include("linli.voting.urls_paper")),
    path("", include("linli.voting.urls_results")),
]
