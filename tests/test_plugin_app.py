"""A new capability is one folder that plugs in: tests/parcels registers a job, a recipe, a
menu entry, its pages, an API router and a workflow, and no file under linli/ names it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from linli.core import registry
from linli.core.errors import PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition
from linli.notify import services as notify
from linli.notify.models import Notification
from tests.parcels.models import Parcel
from tests.parcels.services import parcel_collect, parcel_receive

REPO = Path(__file__).resolve().parent.parent


# What another file would have to say to know of the app: its module, its URL and menu
# names, its verbs, its model.
NAMES = re.compile(r"tests\.parcels|parcels:|parcels_mine|parcel\.(?:received|collected|sent_back)|parcels\.parcel")


def test_no_file_under_linli_names_the_plugin_app():
    mentions = [str(path.relative_to(REPO)) for path in (REPO / "linli").rglob("*")
                if path.is_file() and path.suffix in {".py", ".html", ".js", ".toml", ".txt", ".json"}
                and NAMES.search(path.read_text(encoding="utf-8", errors="ignore"))]
    assert mentions == []
    assert NAMES.search((REPO / "tests" / "parcels" / "apps.py").read_text())  # the pattern finds what it should


def _parcel(world, *, days_ago: int = 0, code: str = "P-0001") -> Parcel:
    parcel = parcel_receive(actor=world.users["worker"], community=world.community,
                            recipient=world.users["resident"], code=code)
    if days_ago:
        Parcel.objects.filter(pk=parcel.pk).update(received_at=timezone.now() - dt.timedelta(days=days_ago))
    return Parcel.objects.get(pk=parcel.pk)


def test_its_job_is_run_by_the_worker(world):
    assert "parcels.send_back" in [job.name for job in registry.jobs()]
    old, fresh = _parcel(world, days_ago=8, code="P-OLD"), _parcel(world, code="P-NEW")
    call_command("worker", "--once")
    assert Parcel.objects.get(pk=old.pk).status == Parcel.Status.SENT_BACK
    assert Parcel.objects.get(pk=fresh.pk).status == Parcel.Status.RECEIVED
    (event,) = Event.objects.filter(verb="parcel.sent_back")
    assert event.actor is None and event.data == {"from": "received", "to": "sent_back", "number": "P-OLD"}


def test_its_recipe_tells_the_recipient_and_links_to_its_page(world):
    parcel = _parcel(world)
    notify.dispatch_new_events(settle_seconds=0)
    (n,) = Notification.objects.filter(verb="parcel.received")
    assert n.user == world.users["resident"]
    assert (n.target_type, n.target_id, n.url) == ("parcels.parcel", str(parcel.pk), "/parcels/")
    assert n.title == "Parcel P-0001 is waiting for you"


def test_its_menu_entry_shows_only_to_those_it_names(world):
    resident = world.users["resident"]
    client = Client()
    client.force_login(resident)
    assert 'href="/parcels/"' not in client.get("/inbox/").content.decode()
    resident.user_permissions.add(Permission.objects.get(codename="view_parcel", content_type__app_label="parcels"))
    page = client.get("/parcels/").content.decode()
    assert '<a href="/parcels/" aria-current="page">Parcels</a>' in page
    assert 'href="/parcels/"' in client.get("/inbox/").content.decode()


def test_its_router_is_part_of_the_one_api(world):
    _parcel(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["resident"])
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/parcels/mine" in paths and "/api/v1/cases" in paths
    assert client.get("/api/v1/parcels/mine").json() == [{"code": "P-0001", "status": "received"}]
    client.get("/api/v1/docs")  # sets the CSRF cookie
    headers = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
    assert client.post("/api/v1/parcels/P-0001/collect", **headers).json() == {"code": "P-0001",
                                                                              "status": "collected"}
    again = client.post("/api/v1/parcels/P-0001/collect", **headers)
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    missing = client.post("/api/v1/parcels/P-9999/collect", **headers)
    assert missing.status_code == 404 and missing.json() == {"code": "not_found", "message": "No such parcel.",
                                                             "field": None}


def test_its_workflow_writes_one_labelled_event_per_move_and_refuses_the_wrong_actor(world):
    parcel = _parcel(world)
    before = Event.objects.count()
    with pytest.raises(PermissionDenied):
        parcel_collect(actor=world.users["worker"], parcel=parcel)
    assert Event.objects.count() == before and Parcel.objects.get(pk=parcel.pk).status == "received"
    parcel_collect(actor=world.users["resident"], parcel=parcel)
    (event,) = Event.objects.filter(pk__gt=Event.objects.order_by("pk")[before - 1].pk if before else 0,
                                    verb__startswith="parcel.collected")
    assert event.community_id == world.community.pk and event.actor == world.users["resident"]
    assert registry.event_label("parcel.collected") == "collected a parcel"
    with pytest.raises(IllegalTransition):
        parcel_collect(actor=world.users["resident"], parcel=parcel)
    assert Event.objects.filter(verb="parcel.collected").count() == 1


def test_webhooks_may_subscribe_to_its_events(world):
    hook, _secret = notify.webhook_create(actor=world.users["admin"], community=world.community, name="locker",
                                          url="https://locker.example/hook", verbs=["parcel.received"])
    assert hook.verbs == ["parcel.received"] and hook.wants("parcel.received") and not hook.wants("parcel.collected")
