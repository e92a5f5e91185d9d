"""Opening an alert or a hot issue marks the opener's notifications about it read (core.viewed),
and nobody else's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linli.cases.models import Category
from linli.cases import services
from linli.cases.models import Case
from linli.insight.models import Alert, HotIssue, HotIssueMember
from linli.notify.models import Notification

pytestmark = pytest.mark.django_db


def _note(user, target):
    return Notification.objects.create(user=user, community=target.community, verb="x.y", title="t",
                                       target_type=target._meta.label_lower, target_id=str(target.pk))


def test_opening_an_alert_or_a_hot_issue_reads_its_notifications(client, world):
    today = timezone.localdate()
    category = Category.objects.create(community=world.community, code="property", name_zh="物业", name_en="Property")
    alert = Alert.objects.create(community=world.community, grid=world.grids[0], category=category,
                                 window_start=today - dt.timedelta(days=1), window_end=today, observed=5,
                                 expected=1.0, p_value=0.001)
    now = timezone.now()
    issue = HotIssue.objects.create(community=world.community, title="一号院夜里灯不亮", place=world.grids[0].name,
                                    first_at=now, last_at=now, heat=2.0)
    case, _ = services.case_submit(actor=world.users["worker"], intake=services.Intake(
        community=world.community, channel=Case.Channel.PHONE, description="一号院的路灯晚上不亮。",
        grid=world.grids[0], contact_phone="13800000000"))
    HotIssueMember.objects.create(hot_issue=issue, case=case)
    alert.cases.set([case])
    worker, admin = world.users["worker"], world.users["admin"]
    mine = [_note(worker, alert), _note(worker, issue)]
    theirs = _note(admin, alert)
    client.force_login(worker)
    assert client.get(f"/insight/alerts/{alert.pk}/").status_code == 200
    assert client.get(f"/insight/hot-issues/{issue.pk}/").status_code == 200
    for note in mine:
        note.refresh_from_db()
        assert note.read_at is not None
    theirs.refresh_from_db()
    assert theirs.read_at is None
