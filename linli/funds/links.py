"""What the fund puts on other apps' pages, through their hooks (docs/architecture.md).

- ``community.home_actions``: on a resident's home, “Community fund projects” (the calls of
  their community).
- ``voting.process_url``: where a fund process's phase-opened notification links (the call).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from linli.community.models import Resident

from .models import Call


def home_actions(user) -> list[tuple[str, str]]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    resident = Resident.objects.select_related("community").filter(user=user).first()
    if resident is None or not Call.objects.filter(community_id=resident.community_id).exists():
        return []
    return [(_("Community fund projects"), reverse("funds:calls", args=[resident.community.code]))]


def process_url(process) -> str | None:
    if process.kind != "fund":
        return None
    call = Call.objects.filter(process=process).first()
    if call is None:
        return None
    return reverse("funds:call", args=[process.community.code, call.pk])
