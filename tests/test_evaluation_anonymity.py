"""Anonymous by construction: nothing stored joins a ballot to a household, a resident, an
account or a moment, and the evaluation's own tables point at neither ballots nor voters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, models
from django.utils import timezone

from linli.evaluation import models as evaluation_models
from linli.evaluation import services
from linli.voting import phases, services as voting
from linli.voting.models import Ballot, Option, Participation

PERSONAL = {"community.household", "community.resident", "auth.user", "voting.participation",
            "community.building", "community.unit"}


@pytest.mark.django_db
def test_no_ballot_column_points_at_a_voter_or_a_time():
    for f in Ballot._meta.get_fields():
        related = getattr(f, "related_model", None)
        if related is not None:
            assert related._meta.label_lower not in PERSONAL, f.name
        assert not isinstance(f, (models.DateTimeField, models.DateField)), f.name
        assert not isinstance(f, models.AutoField), f.name  # no insertion order in the key
    # ... and in the database as it is: the ballot table's columns are only these.
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, Ballot._meta.db_table)}
    assert columns == {"id", "vote_id", "choices", "receipt_hash", "grid_id", "weight_area"}


@pytest.mark.django_db
def test_no_participation_column_points_at_a_ballot():
    for f in Participation._meta.get_fields():
        related = getattr(f, "related_model", None)
        assert related is not Ballot, f.name
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor,
                                                                                Participation._meta.db_table)}
    assert not any("ballot" in c or "receipt" in c for c in columns)


def test_the_evaluation_stores_nothing_of_ballots_or_voters():
    for model in (evaluation_models.Evaluation, evaluation_models.Target, evaluation_models.Criterion,
                  evaluation_models.Response):
        for f in model._meta.get_fields():
            related = getattr(f, "related_model", None)
            if related is not None:
                # staff accounts (who set it up, who wrote a response) are not voters
                assert related._meta.label_lower not in (PERSONAL - {"auth.user"}) | {"voting.ballot"}, (model, f.name)


@pytest.mark.django_db
def test_cast_ballots_cannot_be_matched_to_participations(world):
    now = timezone.now()
    ev = services.evaluation_create(actor=world.users["admin"], community=world.community, year=2026,
                                    preparation_starts=now - dt.timedelta(minutes=1),
                                    voting_starts=now + dt.timedelta(hours=1),
                                    results_starts=now + dt.timedelta(hours=2),
                                    response_starts=now + dt.timedelta(hours=3), ends_at=now + dt.timedelta(hours=4))
    services.target_add(actor=world.users["worker"], evaluation=ev, kind="committee", label="居民委员会",
                        criteria=["服务"])
    ev = services.ballot_prepare(actor=world.users["worker"], evaluation=ev)
    specs = [phases.PhaseSpec(k, k, now + dt.timedelta(hours=i - 1) - dt.timedelta(minutes=1))
             for i, k in enumerate(("preparation", "voting", "results", "response"))]
    phases.set_phases(actor=None, process=ev.process, specs=specs, ends_at=now + dt.timedelta(hours=4))
    question = ev.vote.questions.get()
    options = {o.ref: o.pk for o in Option.objects.filter(question=question)}
    voters, seen = [], set()
    for r in world.residents:
        if r.household_id not in seen:
            seen.add(r.household_id)
            voters.append(r)
    for i, r in enumerate(voters):
        voting.cast(vote=ev.vote, resident=r, channel="booth", actor=world.users["worker"],
                    choices={str(question.pk): options["satisfied" if i % 2 else "unsatisfied"]})
    ballots = list(Ballot.objects.filter(vote=ev.vote))
    assert len(ballots) == Participation.objects.filter(vote=ev.vote).count() == len(voters)
    # random keys, no sequence to line up with the participations' ids: drawn from 62 bits, and
    # on SQLite the key IS the rowid (no hidden row number counting insertions)
    assert len({b.id for b in ballots}) == len(ballots) and all(0 < b.id < 2 ** 63 for b in ballots)
    assert max(b.id for b in ballots) > 2 ** 40
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT rowid, id FROM voting_ballot WHERE vote_id = %s", [ev.vote.pk])
            pairs = cursor.fetchall()
        assert pairs and all(rowid == key for rowid, key in pairs)
    # the only shared facts are the vote, the channel and the courtyard: a join on them
    # gives every ballot of that courtyard and channel, never one household's
    for b in ballots:
        same = [x for x in ballots if x.grid_id == b.grid_id]
        assert len(same) > 1
