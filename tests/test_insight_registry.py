"""What linli.insight plugs into the registries from its AppConfig.ready(): jobs, the alert recipe,
the two hooks of cases, menu entries and the labels of its events."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linli.core import registry
from linli.insight import early_warning, hotissues, intake, jobs, notifications

INSIGHT_VERBS = ["alert.raised", "alert.acknowledged", "alert.closed", "hotissue.formed", "hotissue.grew",
                 "hotissue.closed", "classifier.trained", "classifier.promoted", "classifier.rejected",
                 "classifier.retired"]


def test_jobs_keep_their_names_and_periods_and_resolve():
    found = {job.name: job for job in registry.jobs() if job.name.startswith("insight.")}
    assert {name: job.every_seconds for name, job in found.items()} == {
        "insight.retrain": 86400, "insight.hotissues_refresh": 3600, "insight.hotissues_attach": 60,
        "insight.warnings": 3600}
    assert registry.resolve_job(found["insight.retrain"]) is jobs.retrain_all
    assert registry.resolve_job(found["insight.hotissues_refresh"]) is hotissues.refresh_all
    assert registry.resolve_job(found["insight.hotissues_attach"]) is hotissues.attach_all
    assert registry.resolve_job(found["insight.warnings"]) is early_warning.scan_all


def test_recipe_and_hooks_are_registered():
    assert notifications.ALERTS in registry.recipes()
    assert intake.learned_suggestion in registry.hooks("cases.category_suggesters")
    assert hotissues.similar_panel in registry.hooks("cases.staff_case_panels")


def test_every_insight_verb_has_a_label_and_only_new_alerts_go_to_webhooks():
    assert all(registry.event_label(verb) for verb in INSIGHT_VERBS)
    webhook = set(registry.webhook_verbs())
    assert "alert.raised" in webhook
    assert not webhook & (set(INSIGHT_VERBS) - {"alert.raised"})


@pytest.mark.parametrize("name, user, shown", [
    ("hot_issues", "worker", True), ("alerts", "grid1", True),
    ("hot_issues", "resident", False), ("alerts", "resident", False),
])
def test_menu_entries_for_console_users(world, name, user, shown):
    entry = next(e for e in registry.menu_entries() if e.name == name)
    assert entry.visible(world.users[user]) is shown


def test_menu_entries_mark_their_pages(world, client):
    client.force_login(world.users["worker"])
    for url_name, entry_name in (("insight:hot_issues", "hot_issues"), ("insight:alerts", "alerts")):
        response = client.get(reverse(url_name))
        current = [e["name"] for e in response.context["menu"] if e["current"]]
        assert current == [entry_name]
