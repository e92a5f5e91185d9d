"""The public results of a vote and its receipt check (included by ``linli.voting.urls``,
namespace ``voting``). Anyone may read them; no name is shown. The receipt code is POSTed,
never put in a URL."""

from django.urls import path

from . import views_results as views

urlpatterns = [
    path("<str:code>/v/<int:vote_id>/", views.results, name="results"),
    path("<str:code>/v/<int:vote_id>/receipt", views.receipt, name="receipt"),
]
