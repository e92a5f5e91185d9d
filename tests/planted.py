"""A resident's personal data planted in free text, and finding it again in what others see:
shared by the privacy crawls of each capability (tests/test_privacy_*.py)."""

from __future__ import annotations

import json
import re
import urllib.parse

NUMBERS = ("phone", "id_number")
EVERYTHING = ("name", "phone", "id_number", "door")
# Every address a page points at: links, images, forms, data attributes.
LINK = re.compile(r'''(?:href|src|action|data-[a-z-]+)\s*=\s*["']([^"']*)["']''')


def person_of(world, index=2) -> dict:
    """One resident's personal data, read from the registry (decrypted), and her door as staff
    would write it."""
    resident = world.residents[index]
    household = resident.household
    door = f"{household.building.name}{household.unit.number}单元{household.room}室"
    return {"name": resident.name.reveal(), "phone": resident.phone.reveal(),
            "id_number": resident.id_number.reveal(), "door": door}


def planted_text(p: dict) -> str:
    return f"{p['name']}（电话{p['phone']}，身份证{p['id_number']}，住{p['door']}）"


def found(text: str, person: dict, which=EVERYTHING) -> list[str]:
    """The planted values (or their URL-encoded forms) found in ``text``."""
    hits = []
    for field in which:
        value = person[field]
        if value in text or urllib.parse.quote(value) in text or urllib.parse.quote_plus(value) in text:
            hits.append(field)
    return hits


def stored_hits(person) -> dict:
    """Where the planted values are stored beside the pages: every event (its columns and data)
    and every notification."""
    from django.apps import apps

    from linli.core.models import Event

    hits = {}
    for event in Event.objects.all():
        row = json.dumps({k: str(v) for k, v in event.__dict__.items() if not k.startswith("_")},
                         ensure_ascii=False)
        hit = found(row + json.dumps(event.data, ensure_ascii=False), person)
        if hit:
            hits[f"event {event.pk} {event.verb}"] = hit
    notification = apps.get_model("notify", "Notification")
    for n in notification.objects.all():
        row = json.dumps({k: str(v) for k, v in n.__dict__.items() if not k.startswith("_")}, ensure_ascii=False)
        hit = found(row, person)
        if hit:
            hits[f"notification {n.pk}"] = hit
    return hits
