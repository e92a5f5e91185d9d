"""Openness: the monthly summary on the board, the honour list, the certificate PDF
(docs/volunteers.md, "Service hours, approval and points")."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone, translation
from pypdf import PdfReader

from factories import PASSWORD
from linli.core.errors import Conflict, PermissionDenied
from linli.disclosure.models import Entry
from linli.transparency import keys
from linli.volunteers import certificate, hours, openness
from linli.volunteers.models import Activity, Team, Volunteer

# A month well in the past: its records are approved, then summarised.
START = timezone.make_aware(dt.datetime(2026, 3, 10, 9, 0))


@pytest.fixture
def signing_key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("board.example.org", tmp_path / "signing.key")


@pytest.fixture
def served(world):
    """Three volunteers; two opted in to the honour list; approved, pending and rejected hours."""
    team = Team.objects.create(community=world.community, kind="vanguard", name="先锋队", active=True)
    vols = []
    for i, resident in enumerate(world.residents[:3]):
        vols.append(Volunteer.objects.create(community=world.community, resident=resident, grid=resident.grid,
                                             honour_opt_in=(i != 1)))
    kinds = ["visit", "cleanup", "escort"]
    for i, kind in enumerate(kinds):
        activity = Activity.objects.create(
            community=world.community, title=f"活动{i}", activity_type=kind, place="1号院", grid=world.grids[0],
            starts_at=START + dt.timedelta(days=i), ends_at=START + dt.timedelta(days=i, hours=2), slots=5,
            organiser=world.users["leader"], team=team if i < 2 else None)
        for v in vols:
            record = hours.mark(actor=world.users["leader"], activity=activity, volunteer=v,
                                check_in_at=activity.starts_at, check_out_at=activity.starts_at + dt.timedelta(minutes=60))
            if i == 2 and v is vols[0]:
                hours.reject(actor=world.users["worker"], record=record, reason="不在现场")
            elif i == 1 and v is vols[0]:
                pass  # stays pending
            else:
                hours.approve(actor=world.users["worker"], record=record)
    return world, team, vols


def test_monthly_summary_has_totals_and_no_personal_balance(served):
    world, team, vols = served
    summary = openness.monthly_summary(world.community, 2026, 3)
    # 9 records: 1 rejected, 1 pending, 7 approved; 60 min each; 10/8/12 points an hour.
    assert summary["records"] == 7 and summary["hours"] == 7.0 and summary["volunteers"] == 3
    # Points count in the month they were granted (the approval: now), hours in the month served.
    assert summary["issued"] == 0
    now = timezone.localdate()
    assert openness.monthly_summary(world.community, now.year, now.month)["issued"] == 10 * 3 + 8 * 2 + 12 * 2
    assert summary["redeemed"] == 0 and summary["expired"] == 0
    assert [(t["team"], t["hours"], t["points"]) for t in summary["teams"]] == [("先锋队", 5.0, 46)]
    text = repr(summary) + "".join(openness.summary_text(summary))
    for v in vols:
        assert v.resident.name.reveal() not in text
    assert set(summary) == {"year", "month", "issued", "redeemed", "expired", "records", "hours", "points",
                            "volunteers", "teams"}
    assert openness.monthly_summary(world.community, 2026, 4)["records"] == 0


def test_summary_is_published_on_the_board_once(served, signing_key):
    world, _team, vols = served
    with translation.override("en"):
        entry = openness.publish_summary(actor=world.users["worker"], community=world.community, year=2026, month=3)
    entry = Entry.objects.get(pk=entry.pk)
    assert entry.section == "residential" and entry.published_at is not None
    assert "2026-03" in entry.title and "7 records, 7.0 hours, by 3 volunteers" in entry.body
    assert all(v.resident.name.reveal() not in entry.body for v in vols)
    with pytest.raises(Conflict) as e:
        openness.publish_summary(actor=world.users["worker"], community=world.community, year=2026, month=3)
    assert e.value.code == "already_published"
    with pytest.raises(PermissionDenied):
        openness.publish_summary(actor=world.users["leader"], community=world.community, year=2026, month=2)
    assert Entry.objects.count() == 1


def test_the_job_publishes_last_month_from_the_summary_day_once(served, signing_key, settings):
    world, _team, vols = served
    settings.LINLI_VOLUNTEER_SUMMARY_DAY = 5
    before = timezone.make_aware(dt.datetime(2026, 4, 4, 23, 0))
    assert openness.publish_due(now=before) == {"published": 0}
    assert not Entry.objects.exists()
    due = timezone.make_aware(dt.datetime(2026, 4, 5, 3, 0))
    with translation.override("en"):
        assert openness.publish_due(now=due) == {"published": 1}
        assert openness.publish_due(now=due) == {"published": 0}  # safe to run twice
    entry = Entry.objects.get()
    assert "2026-03" in entry.title and "7 records" in entry.body
    assert all(v.resident.name.reveal() not in entry.body for v in vols)
    # A community without volunteers or points gets no empty summary.
    assert Entry.objects.filter(community=world.other_community).count() == 0


def test_the_job_publishes_december_in_january(served, signing_key):
    world, _team, _vols = served
    with translation.override("en"):
        assert openness.publish_due(now=timezone.make_aware(dt.datetime(2027, 1, 20, 3, 0))) == {"published": 1}
    assert "2026-12" in Entry.objects.get().title


def test_summary_page_publishes(served, signing_key):
    world, _t, _v = served
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.login(username="worker", password=PASSWORD)
    url = "/volunteers/Y/office/summary/?year=2026&month=3"
    r = c.get(url)
    assert r.status_code == 200 and "Points issued" in r.content.decode()
    r = c.post("/volunteers/Y/office/summary/", {"year": "2026", "month": "3"})
    assert r.status_code == 302 and Entry.objects.count() == 1
    c.login(username="resident", password=PASSWORD)
    assert c.get(url).status_code == 404


def test_honour_list_shows_only_opted_in_volunteers_masked(served):
    world, _t, vols = served
    rows = openness.honour_list(world.community, year=2026)
    names = [r["name"] for r in rows]
    assert vols[0].resident.name.masked in names and vols[2].resident.name.masked in names
    assert vols[1].resident.name.masked not in names  # did not opt in
    assert len(rows) == 2
    # Approved hours only: vols[0] had one approved of three.
    assert {r["name"]: r["hours"] for r in rows}[vols[0].resident.name.masked] == 1.0
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/volunteers/Y/honour/?year=2026").content.decode()
    for v in vols:
        assert v.resident.name.reveal() not in page
    assert vols[2].resident.name.masked in page
    assert vols[1].resident.name.masked not in page


def test_certificate_lists_approved_hours_only(served):
    world, _t, vols = served
    with translation.override("en"):
        pdf = certificate.certificate_pdf(vols[0], year=2026)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Certificate of volunteer service" in text
    assert "Visiting elders" in text  # approved
    assert "Cleaning up" not in text and "clinic" not in text  # pending, rejected
    assert "Total approved hours: 1.0" in text
    with translation.override("en"):
        full = certificate.certificate_pdf(vols[2])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(full)).pages)
    assert "Total approved hours: 3.0" in text


def test_certificate_download_is_the_volunteers_own(served):
    world, _t, vols = served
    c = Client()
    c.login(username="resident", password=PASSWORD)  # world.residents[0] = vols[0]
    r = c.get("/volunteers/me/certificate.pdf?year=2026")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    c.login(username="nobody", password=PASSWORD)
    assert c.get("/volunteers/me/certificate.pdf").status_code == 404
