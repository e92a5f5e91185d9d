"""Processes and their phases: the layout (with a property test), storing it, the current phase,
``require`` and its refusal, the job that announces openings and its notification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation
from hypothesis import given, settings as hsettings, strategies as st

from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.core.registry import hooks, recipes
from linli.voting import jobs, notifications, phases, services
from linli.voting.models import Phase
from linli.voting.phases import PhaseClosed, PhaseSpec

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone.utc)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def specs3(enabled=(True, True, True)):
    return [PhaseSpec("proposals", "Proposals", day(0), enabled[0]),
            PhaseSpec("council", "Council", day(10), enabled[1]),
            PhaseSpec("vote", "Vote", day(20), enabled[2])]


# --- arrange (pure) ---------------------------------------------------------------------------


def test_arrange_chains_enabled_phases_to_the_end():
    laid = phases.arrange(specs3(), ends_at=day(30))
    assert [(s.key, a, b) for s, a, b in laid] == [
        ("proposals", day(0), day(10)), ("council", day(10), day(20)), ("vote", day(20), day(30))]


def test_a_disabled_phase_has_zero_length_at_its_boundary():
    laid = phases.arrange(specs3((True, False, True)), ends_at=day(30))
    assert [(s.key, a, b) for s, a, b in laid] == [
        ("proposals", day(0), day(20)), ("council", day(20), day(20)), ("vote", day(20), day(30))]
    laid = phases.arrange(specs3((True, True, False)), ends_at=day(30))
    assert laid[1][1:] == (day(10), day(30)) and laid[2][1:] == (day(30), day(30))


@pytest.mark.parametrize("bad, ends", [
    ([PhaseSpec("a", "A", day(5)), PhaseSpec("b", "B", day(5))], day(9)),        # not strictly increasing
    ([PhaseSpec("a", "A", day(5)), PhaseSpec("b", "B", day(3))], day(9)),        # going back
    ([PhaseSpec("a", "A", day(5))], day(5)),                                     # ends at the last start
    ([PhaseSpec("a", "A", day(5), False)], day(9)),                              # none enabled
    ([PhaseSpec("a", "A", day(1)), PhaseSpec("a", "B", day(3))], day(9)),        # a key twice
    ([PhaseSpec("A b", "A", day(1))], day(9)),                                   # not a key
    ([PhaseSpec("a", "A", day(1).replace(tzinfo=None))], day(9)),                # naive
    ([], day(9)),
])
def test_arrange_refuses(bad, ends):
    with pytest.raises(InvalidInput):
        phases.arrange(bad, ends_at=ends)


def test_disabled_phases_need_not_be_in_order():
    laid = phases.arrange([PhaseSpec("a", "A", day(5)), PhaseSpec("b", "B", day(1), False),
                           PhaseSpec("c", "C", day(6))], ends_at=day(9))
    assert laid[1][1:] == (day(6), day(6))


@st.composite
def layouts(draw):
    n = draw(st.integers(1, 7))
    gaps = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n))
    enabled = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    if not any(enabled):
        enabled[draw(st.integers(0, n - 1))] = True
    starts, t = [], T0
    for g in gaps:
        t = t + dt.timedelta(minutes=g)
        starts.append(t)
    # A disabled phase's own start is anything at all: it is skipped.
    noise = draw(st.lists(st.integers(-50_000, 50_000), min_size=n, max_size=n))
    specs = [PhaseSpec(f"p{i}", f"P{i}", starts[i] if enabled[i] else T0 + dt.timedelta(minutes=noise[i]), enabled[i])
             for i in range(n)]
    ends = starts[max(i for i in range(n) if enabled[i])] + dt.timedelta(minutes=draw(st.integers(1, 10_000)))
    return specs, ends


@hsettings(max_examples=200, deadline=None)
@given(layouts())
def test_property_no_gap_no_overlap_disabled_skipped(layout):
    specs, ends = layout
    laid = phases.arrange(specs, ends_at=ends)
    assert [s for s, _a, _b in laid] == specs  # every spec, in the given order
    on = [(a, b) for s, a, b in laid if s.enabled]
    first = next(s for s in specs if s.enabled)
    assert on[0][0] == first.starts_at and on[-1][1] == ends
    for (a1, b1), (a2, b2) in zip(on, on[1:]):
        assert b1 == a2  # no gap, no overlap
    assert all(a < b for a, b in on)
    for s, a, b in laid:
        if not s.enabled:
            assert a == b  # zero length
            assert any(a == x for pair in on for x in pair)  # on a boundary of the enabled chain
    # At any moment inside the process exactly one enabled phase runs.
    for probe in (a for a, _b in on):
        assert sum(1 for a, b in on if a <= probe < b) == 1


# --- stored phases ----------------------------------------------------------------------------


def make_process(world, *, specs=None, ends=None, grids=(), actor="worker", kind="vote"):
    return services.process_create(actor=world.users[actor] if actor else None, community=world.community,
                                   kind=kind, title="楼道照明改造", grids=grids, specs=specs or specs3(),
                                   ends_at=ends or day(30))


def test_process_create_stores_phases_and_writes_events(world):
    process = make_process(world)
    assert [(p.key, p.order, p.starts_at, p.ends_at) for p in process.phases.all()] == [
        ("proposals", 1, day(0), day(10)), ("council", 2, day(10), day(20)), ("vote", 3, day(20), day(30))]
    verbs = list(Event.objects.filter(target_id=str(process.pk), target_type="voting.process")
                 .values_list("verb", flat=True).order_by("id"))
    assert verbs == ["voting.process_created", "voting.phases_set"]


def test_only_the_office_runs_processes(world):
    for who in ("grid1", "secretary", "resident", "z_worker", "supervisor"):
        with pytest.raises(PermissionDenied):
            make_process(world, actor=who)
    assert make_process(world, actor="admin").pk


def test_set_phases_keeps_rows_by_key_and_protects_a_votes_phase(world):
    process = make_process(world)
    council = process.phases.get(key="council")
    Phase.objects.filter(pk=council.pk).update(opened_at=day(10))
    services.vote_create(actor=world.users["worker"], process=process, title="方案表决", kind="choice",
                         eligibility="adults", rule="majority", questions=[("同意吗？", ["同意", "不同意"])],
                         phase_key="vote")
    new = [PhaseSpec("proposals", "Proposals", day(0)), PhaseSpec("council", "Council", day(10)),
           PhaseSpec("vote", "Vote", day(21))]
    kept = phases.set_phases(actor=world.users["worker"], process=process, specs=new, ends_at=day(31))
    council.refresh_from_db()
    assert council.pk in [p.pk for p in kept] and council.opened_at == day(10)  # start unchanged: still announced
    with pytest.raises(InvalidInput):
        phases.set_phases(actor=world.users["worker"], process=process, specs=new[:2], ends_at=day(31))
    with pytest.raises(InvalidInput):
        phases.set_phases(actor=world.users["worker"], process=process,
                          specs=new[:2] + [PhaseSpec("vote", "Vote", day(21), False)], ends_at=day(31))


def test_current_and_next(world):
    process = make_process(world, specs=specs3((True, False, True)))
    assert phases.current(process, day(-1)) is None
    assert phases.next_phase(process, day(-1)).key == "proposals"
    assert phases.current(process, day(0)).key == "proposals"
    assert phases.current(process, day(15)).key == "proposals"  # council is switched off
    assert phases.next_phase(process, day(15)).key == "vote"
    assert phases.current(process, day(20)).key == "vote"
    assert phases.current(process, day(30)) is None and phases.next_phase(process, day(30)) is None


def test_require_passes_in_the_phase_and_refuses_outside_it(world):
    process = make_process(world)
    assert phases.require(process, "council", action="comment", at=day(12)).key == "council"
    with translation.override("en"):
        with pytest.raises(PhaseClosed) as caught:
            phases.require(process, "vote", action="vote", at=day(12))
    err = caught.value
    assert isinstance(err, PermissionDenied) and err.code == "phase_closed" and err.status == 403
    text = str(err.message)
    assert "vote" in text and "“Vote”" in text and "“Council”" in text
    assert timezone.localtime(day(20)).strftime("%Y-%m-%d %H:%M") in text
    with translation.override("en"), pytest.raises(PhaseClosed) as caught:
        phases.require(process, "vote", action="vote", at=day(40))
    assert "ended" in str(caught.value.message)
    with pytest.raises(PhaseClosed):
        phases.require(process, "nope", action="vote", at=day(12))


# --- the job and its notification -------------------------------------------------------------


def test_announce_phases_once_each_and_notify_the_scope(world):
    now = timezone.now()
    specs = [PhaseSpec("a", "Ask", now - dt.timedelta(days=2)), PhaseSpec("b", "Discuss", now - dt.timedelta(hours=1)),
             PhaseSpec("c", "Decide", now + dt.timedelta(days=2))]
    process = make_process(world, specs=specs, ends=now + dt.timedelta(days=5), grids=[world.grids[0]])
    assert jobs.announce_phases() == {"announced": 1}  # "a" has ended: no news; "c" not yet
    assert jobs.announce_phases() == {"announced": 0}
    assert process.phases.get(key="b").opened_at is not None
    assert process.phases.get(key="a").opened_at is None
    events = list(Event.objects.filter(verb="voting.phase_opened"))
    assert len(events) == 1 and events[0].data["phase"] == "b"
    recipe = next(r for r in recipes() if r.matches("voting.phase_opened"))
    with translation.override("en"):
        out = list(recipe.messages(events))
    assert len(out) == 1
    message = out[0][1]
    resident_user = world.users["resident"]  # lives in the first grid
    assert world.residents[0].grid_id == world.grids[0].pk
    assert list(message.user_ids) == [resident_user.pk]
    assert "Discuss" in message.title
    # A resident of the other courtyard with an account is not told.
    other = next(r for r in world.residents if r.grid_id == world.grids[1].pk)
    from factories import _user
    other.user = _user("other-grid")
    other.save(update_fields=["user"])
    assert notifications.audience(process) == [resident_user.pk]


def test_phase_opened_is_offered_to_webhooks():
    from linli.core.registry import webhook_verb_set

    assert "voting.phase_opened" in webhook_verb_set()
    assert notifications.PROCESS_URL == "voting.process_url"
    assert isinstance(hooks(notifications.PROCESS_URL), list)
