"""Early warning: a planted surge raises one alert (not twice), flat data raises none, the alert
reaches the right inboxes through linli.notify, pages are scoped, events hold no personal data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from linli.cases.defaults import install_default_categories
from linli.cases.models import Case, Category
from linli.cases.services import Intake, case_submit
from linli.core.models import Event
from linli.insight import early_warning
from linli.insight.models import Alert
from linli.notify.models import Notification
from linli.notify.services import dispatch_new_events

NOISE = "楼下广场舞音响声音太大，晚上吵得睡不着"


@pytest.fixture
def ww(world):
    """Y with its categories and 90 days of flat history: a noise case in G01 every fifth day,
    and a repair case in G02 every third day (bulk rows, as the demo history writes them)."""
    install_default_categories(actor=world.users["admin"], community=world.community)
    world.categories = {c.code: c for c in Category.objects.filter(community=world.community)}
    today = timezone.localdate()
    rows = []
    for back in range(3, 93):
        at = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=back), dt.time(10, 0)))
        if back % 5 == 0:
            rows.append(Case(community=world.community, number=f"Y-H{back}-1", channel=Case.Channel.WEB,
                             description=NOISE, category=world.categories["noise"], grid=world.grids[0],
                             created_at=at))
        if back % 3 == 0:
            rows.append(Case(community=world.community, number=f"Y-H{back}-2", channel=Case.Channel.PHONE,
                             description="2栋屋顶漏水", category=world.categories["property-repair"],
                             grid=world.grids[1], created_at=at))
    Case.objects.bulk_create(rows)
    return world


def surge(w, n: int, *, grid: int = 0) -> list[Case]:
    reporter = w.residents[0 if grid == 0 else 6]
    cases = []
    for i in range(n):
        case, _ = case_submit(actor=w.users["worker"], intake=Intake(
            community=w.community, channel=Case.Channel.PHONE, description=f"{NOISE}（第{i + 1}次反映）",
            reporter=reporter, place=Case.Place.HOME, category=w.categories["noise"]))
        assert case.grid == w.grids[grid]
        cases.append(case)
    return cases


def test_flat_history_raises_nothing(ww):
    result = early_warning.scan(ww.community.pk, days=60)
    assert result == {"findings": 0, "raised": 0, "extended": 0}
    assert not Alert.objects.exists()


def test_a_surge_raises_one_alert_with_its_cases_and_only_once(ww):
    cases = surge(ww, 8)
    result = early_warning.scan(ww.community.pk)
    assert result["raised"] == 1
    alert = Alert.objects.get()
    today = timezone.localdate()
    assert (alert.grid, alert.category.code, alert.window_end) == (ww.grids[0], "noise", today)
    assert alert.window_start == today - dt.timedelta(days=early_warning.WINDOW - 1)
    assert alert.observed >= 8 and alert.expected < 3 and alert.p_value < early_warning.P_ALERT
    assert set(cases) <= set(alert.cases.all())
    assert early_warning.scan(ww.community.pk)["raised"] == 0          # the same window: no second alert
    assert early_warning.scan(ww.community.pk, days=3)["raised"] == 0
    assert Alert.objects.count() == 1 and Event.objects.filter(verb="alert.raised").count() == 1


def test_the_alert_reaches_the_office_and_the_courtyards_grid_workers(ww):
    surge(ww, 8)
    early_warning.scan(ww.community.pk)
    dispatch_new_events(settle_seconds=0)
    told = set(Notification.objects.filter(verb="alert.raised").values_list("user__username", flat=True))
    assert told == {"admin", "worker", "grid1"}
    note = Notification.objects.filter(verb="alert.raised").first()
    assert "噪音扰民" in note.title and "1号院" in note.title and note.target_type == "insight.alert"
    assert dispatch_new_events(settle_seconds=0)["notifications"] == 0


def test_the_alert_reaches_webhooks_that_want_it_and_the_inbox_links_to_it(ww, client):
    from linli.notify.models import WebhookDelivery
    from linli.notify.services import webhook_create, webhook_payload

    alerts_hook, _secret = webhook_create(actor=None, community=ww.community, name="robot",
                                          url="http://127.0.0.1:9/robot", verbs=["alert.raised"])
    cases_hook, _secret = webhook_create(actor=None, community=ww.community, name="cases",
                                         url="http://127.0.0.1:9/cases", verbs=["case.accepted"])
    surge(ww, 8)
    early_warning.scan(ww.community.pk)
    dispatch_new_events(settle_seconds=0)
    delivery = WebhookDelivery.objects.get(event__verb="alert.raised")
    assert delivery.webhook == alerts_hook
    assert not WebhookDelivery.objects.filter(webhook=cases_hook, event__verb="alert.raised").exists()
    alert = Alert.objects.get()
    assert webhook_payload(delivery.event)["target"]["id"] == str(alert.pk)
    client.force_login(ww.users["grid1"])
    assert reverse("insight:alert", args=[alert.pk]) in client.get(reverse("inbox")).content.decode()


def test_alert_events_carry_no_personal_data(ww):
    surge(ww, 8)
    early_warning.scan(ww.community.pk)
    event = Event.objects.get(verb="alert.raised")
    text = repr(event.data)
    assert NOISE not in text and "广场舞" not in text
    assert not any(r.name.reveal() in text for r in ww.residents)
    assert set(event.data) == {"alert", "category", "category_name", "grid", "grid_name", "window_start",
                               "window_end", "observed", "expected", "p_value"}


def test_alerts_are_scoped_and_show_their_cases(ww, client):
    cases = surge(ww, 8)
    early_warning.scan(ww.community.pk)
    alert = Alert.objects.get()
    u = ww.users
    for name in ("admin", "worker", "secretary", "grid1", "supervisor"):
        assert list(early_warning.alerts_for(u[name])) == [alert], name
    for name in ("grid2", "z_worker", "resident", "unit_staff", "nobody"):
        assert not early_warning.alerts_for(u[name]).exists(), name
    client.force_login(u["grid1"])
    page = client.get(reverse("insight:alert", args=[alert.pk])).content.decode()
    assert all(c.number in page for c in cases)
    assert alert.pk and "噪音扰民" in client.get(reverse("insight:alerts")).content.decode()
    client.force_login(u["grid2"])
    assert client.get(reverse("insight:alert", args=[alert.pk])).status_code == 404
    client.force_login(u["resident"])
    assert client.get(reverse("insight:alerts")).status_code == 403


def test_acknowledge_and_close(ww, client):
    surge(ww, 8)
    early_warning.scan(ww.community.pk)
    alert = Alert.objects.get()
    client.force_login(ww.users["grid1"])
    client.post(reverse("insight:alert_status", args=[alert.pk]), {"status": "acknowledged"})
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    client.post(reverse("insight:alert_status", args=[alert.pk]), {"status": "bogus"})
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    client.post(reverse("insight:alert_status", args=[alert.pk]), {"status": "closed"})
    alert.refresh_from_db()
    assert alert.status == Alert.Status.CLOSED
    assert early_warning.scan(ww.community.pk)["raised"] == 0           # a closed alert stays closed
    client.force_login(ww.users["grid2"])
    assert client.post(reverse("insight:alert_status", args=[alert.pk]), {"status": "open"}).status_code == 404


def test_detect_flags_a_planted_surge_but_not_steady_series():
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(200)]
    counts = np.zeros((3, 200), dtype=np.int64)
    counts[0, ::2] = 1            # steady: one every other day
    counts[1, ::3] = 1
    counts[2, ::5] = 1
    steady = early_warning.detect(counts, days, [1, 1, 2], ["a", "b", "a"], scan_from=0)
    assert steady == []
    counts[2, 150:152] += 4       # +8 in two days
    found = early_warning.detect(counts, days, [1, 1, 2], ["a", "b", "a"], scan_from=0)
    assert {f.series for f in found} == {2}
    assert min(f.end for f in found) in (150, 151) and all(f.observed >= early_warning.MIN_CASES for f in found)


def test_acknowledging_and_closing_are_moves_with_one_event_each(ww):
    from linli.core.errors import InvalidInput, PermissionDenied
    from linli.core.workflow import IllegalTransition
    from linli.insight.services import alert_set_status
    from linli.insight.workflows import ALERT

    surge(ww, 8)
    early_warning.scan(ww.community.pk)
    alert = Alert.objects.get()
    u = ww.users
    with pytest.raises(PermissionDenied):
        alert_set_status(actor=u["grid2"], alert=alert, status="acknowledged")
    with pytest.raises(PermissionDenied):
        ALERT.transition(alert, "acknowledge", actor=u["z_worker"])
    with pytest.raises(InvalidInput):
        alert_set_status(actor=u["grid1"], alert=alert, status="open")
    assert not Event.objects.filter(verb__in=["alert.acknowledged", "alert.closed"]).exists()

    assert ALERT.allowed(u["grid1"], alert) == ["acknowledge", "close"]
    alert = alert_set_status(actor=u["grid1"], alert=alert, status="acknowledged")
    assert alert.status == Alert.Status.ACKNOWLEDGED
    alert = alert_set_status(actor=u["grid1"], alert=alert, status="acknowledged")   # a second click
    acknowledged = Event.objects.get(verb="alert.acknowledged")
    assert (acknowledged.actor, acknowledged.target_id, acknowledged.grid_id) == (u["grid1"], str(alert.pk),
                                                                                   ww.grids[0].pk)
    assert acknowledged.data == {"from": "open", "to": "acknowledged", "alert": alert.pk}
    with pytest.raises(IllegalTransition):
        ALERT.transition(alert, "acknowledge", actor=u["admin"])

    alert = alert_set_status(actor=u["supervisor"], alert=alert, status="closed")   # the street sees it too
    assert alert.status == Alert.Status.CLOSED and ALERT.allowed(u["admin"], alert) == []
    closed = Event.objects.get(verb="alert.closed")
    assert closed.actor == u["supervisor"] and closed.data == {"from": "acknowledged", "to": "closed",
                                                               "alert": alert.pk}
    with pytest.raises(IllegalTransition):
        ALERT.transition(alert, "close", actor=u["admin"])
    assert Event.objects.filter(verb__startswith="alert.").count() == 3     # raised, acknowledged, closed


def test_the_alert_recipe_names_the_rise_and_links_to_the_alert(ww):
    from django.utils import translation

    from linli.core import registry
    from linli.insight.notifications import alert_messages

    surge(ww, 8)
    early_warning.scan(ww.community.pk)
    alert = Alert.objects.get()
    event = Event.objects.get(verb="alert.raised")
    recipe = next(r for r in registry.recipes() if r.name == "insight.alerts")
    assert recipe.matches("alert.raised") and not recipe.matches("alert.closed")
    with translation.override("en"):
        [(told_of, message)] = list(alert_messages([event]))
    assert told_of == event
    assert {ww.users[n].pk for n in ("admin", "worker", "grid1")} == set(message.user_ids)
    assert message.url == reverse("insight:alert", args=[alert.pk]) and message.community_id == ww.community.pk
    assert message.title.startswith("Unusual rise:") and "1号院" in message.title
    assert f"{alert.observed} cases from {alert.window_start}" in message.body
    assert NOISE not in message.title + message.body


# --- issue 8, B i: the bench's overdispersed series are what they claim ----------------------

def test_the_bench_overdispersed_series_are_overdispersed_with_weekday_and_holiday_effects():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "warning_bench.py"
    spec = importlib.util.spec_from_file_location("warning_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    counts, dates, grids, categories = bench.overdispersed_counts(60, dt.date(2023, 1, 1), 730,
                                                                  np.random.default_rng(1))
    assert counts.shape == (60, 730) and len(dates) == 730 and len(grids) == len(categories) == 60
    busy = counts[counts.sum(axis=1).argmax()]
    assert busy.var() > 1.5 * busy.mean()           # a Poisson series has variance = mean
    total = counts.sum(axis=0)
    weekday = np.array([d.weekday() for d in dates])
    assert total[weekday == 0].mean() > 1.4 * total[weekday == 6].mean()
    national_day = [t for t, d in enumerate(dates) if d.month == 10 and 1 <= d.day <= 7]
    assert total[national_day].mean() < 0.8 * total.mean()
    # The bench runs the detector on them and prints +5 beside +8 (smoke: tiny, fast).
    bench.overdispersed_bench(plants=2, seed=1, n_series=24, years=2)
