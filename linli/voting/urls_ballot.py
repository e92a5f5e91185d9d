"""The resident's voting pages (included by ``linli.voting.urls``, namespace ``voting``).

``/votes/`` sends a resident to their community's list; ``/votes/<code>/`` lists the votes open
to them; ``/votes/<code>/v/<id>/ballot`` is the ballot (GET the form, POST confirm then cast).
The receipt is shown once in the cast response: no receipt code is ever part of a URL.
"""

from django.urls import path

from . import views_ballot as views

urlpatterns = [
    path("", views.my_community, name="my_votes_home"),
    path("<str:code>/", views.my_votes, name="my_votes"),
    path("<str:code>/v/<int:vote_id>/ballot", views.ballot, name="ballot"),
]
