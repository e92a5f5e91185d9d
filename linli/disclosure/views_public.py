"""The public board: no sign-in, published and withdrawn entries only (docs/disclosure.md,
"The public board"). Every read goes through :mod:`linli.disclosure.public_selectors`."""

from __future__ import annotations

import json
import urllib.parse

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseGone
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from linli.core.masking import scrub

from . import leaf, poster
from . import public_selectors as sel
from .feed import build as build_feed
from .models import Entry, Section

PAGE_SIZE = 20

# What may be cached, and for how long. The content bytes and attachments are fixed by their
# hashes, but a withdrawal erases them: an hour is how long a copy may outlive a withdrawal in
# a cache, rather than "immutable" (docs/disclosure.md).
BYTES_MAX_AGE = 3600
FEED_MAX_AGE = 300


def _community(code: str):
    community = sel.community(code)
    if community is None:
        raise Http404(_("No such community."))
    return community


MAX_INDEX = 2**63 - 1  # a log index is a 64-bit integer; a larger one in a URL is no entry


def _entry(community, index: int) -> Entry:
    entry = sel.entry_at(community, index) if index <= MAX_INDEX else None
    if entry is None:
        raise Http404(_("No such entry on this board."))
    return entry


OVERDUE_SHOWN = 6  # periods named per duty on the board; older ones are counted


def _overdue(community) -> list[dict]:
    """The overdue duties, one line per duty: its title, the periods missing (newest first,
    the first few named) and the earliest date one was due."""
    from . import duties  # the board's duties and their periods

    lines: dict[int, dict] = {}
    for item in duties.overdue(community, today=timezone.localdate()):
        line = lines.setdefault(item.duty.pk, {"title": item.duty.title, "periods": [], "since": item.due_by})
        line["periods"].append(item.label)
        line["since"] = min(line["since"], item.due_by)
    for line in lines.values():
        line["more"] = max(0, len(line["periods"]) - OVERDUE_SHOWN)
        line["periods"] = line["periods"][:OVERDUE_SHOWN]
    return sorted(lines.values(), key=lambda line: line["since"])


@require_safe
def board(request, code: str):
    community = _community(code)
    section = request.GET.get("section", "")
    section = section if section in Section.values else ""
    period = sel.parse_period(request.GET.get("period", ""))
    q = request.GET.get("q", "").replace("\x00", "").strip()[: sel.SEARCH_MAX]
    page = Paginator(sel.board(community, section=section, period=period, q=q).select_related("supersedes"),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = sel.annotate(list(page.object_list))
    params = {k: v for k, v in (("section", section), ("period", period.key if period else ""), ("q", q)) if v}
    tabs = [{"value": value, "label": label, "current": value == section,
             "url": "?" + urllib.parse.urlencode({**{k: v for k, v in params.items() if k != "section"},
                                                  **({"section": value} if value else {})})}
            for value, label in sel.SECTION_LABELS.items()]
    return render(request, "disclosure/public/board.html", {
        "community": community,
        "page": page,
        "entries": page.object_list,
        "tabs": tabs,
        "section": section,
        "period": period,
        "period_groups": _by_year(sel.period_choices(community)),
        "q": q,
        "url_params": urllib.parse.urlencode(params),
        "filtered": bool(params),
        "overdue": _overdue(community),
        "alarm": sel.verify_alarm(community),
        "witnessed": sel.witnessed(community),
        "fingerprint": sel.key_fingerprint(),
        "checkpoint_size": sel.checkpoint_size(community),
        "key_url": f"{_log_url(community)}/key",
        "checkpoint_url": f"{_log_url(community)}/checkpoint",
    })


def _by_year(periods) -> list[tuple[str, list]]:
    """The filter's periods in one group per year (an ``<optgroup>``), newest first."""
    groups: list[tuple[str, list]] = []
    for period in periods:
        if not groups or groups[-1][0] != period.key[:4]:
            groups.append((period.key[:4], []))
        groups[-1][1].append(period)
    return groups


def _log_url(community) -> str:
    """The transparency log's HTTP interface of ``community`` (its paths are fixed by issue 9)."""
    return f"/disclosure/{urllib.parse.quote(community.code)}/log"


def _attachments_json(request, community, entry) -> str:
    return json.dumps([
        {"url": reverse("disclosure:attachment", args=[community.code, entry.log_index, a.sha256]),
         "sha256": a.sha256}
        for a in entry.attachments.all()
    ])


@require_safe
def entry(request, code: str, index: int):
    community = _community(code)
    item = _entry(community, index)
    if item.log_index != index:  # the withdrawal's own index: show the entry it withdrew
        return redirect("disclosure:entry", community.code, item.log_index)
    withdrawn = item.state == Entry.State.WITHDRAWN
    log_url = _log_url(community)
    return render(request, "disclosure/public/entry.html", {
        "community": community,
        "entry": item,
        "withdrawn": withdrawn,
        "reason": scrub(item.withdrawal_reason) if withdrawn else "",
        "attachments": [] if withdrawn else list(item.attachments.all()),
        "corrects": sel.corrects(item),
        "corrected_by": sel.corrected_by(item),
        "section_label": sel.SECTION_LABELS.get(item.section, item.section),
        "author_role": sel.role_label(item.author_role),
        "approver_role": sel.role_label(item.approver_role),
        "finance": item.section == Section.FINANCE,
        "check": sel.server_check(item),
        "fingerprint": sel.key_fingerprint(),
        "witnessed": sel.witnessed(community),
        # For disclosure/_verify.html (the check in the resident's browser).
        "verify": {
            "log_url": log_url,
            "index": item.log_index,
            "content_url": "" if withdrawn else reverse("disclosure:content", args=[community.code, item.log_index]),
            "key": sel.key_text(),
            "attachments_json": _attachments_json(request, community, item) if not withdrawn else "[]",
            "withdrawn": withdrawn,
        },
    })


def _gone(entry: Entry) -> HttpResponseGone:
    response = HttpResponseGone(
        _("This entry was withdrawn on %(date)s; its content is no longer published.")
        % {"date": timezone.localdate(entry.withdrawn_at).isoformat() if entry.withdrawn_at else ""},
        content_type="text/plain; charset=utf-8")
    patch_cache_control(response, public=True, max_age=BYTES_MAX_AGE)
    return response


@require_safe
def content(request, code: str, index: int):
    """The exact bytes the leaf's ``content_sha256`` commits to."""
    community = _community(code)
    item = _entry(community, index)
    if item.log_index != index:
        raise Http404(_("No such entry on this board."))
    if item.state == Entry.State.WITHDRAWN:
        return _gone(item)
    response = HttpResponse(leaf.content_bytes(item), content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"  # anyone's own tools may fetch and hash it
    patch_cache_control(response, public=True, max_age=BYTES_MAX_AGE)
    return response


@require_safe
def attachment(request, code: str, index: int, sha256: str):
    community = _community(code)
    item = _entry(community, index)
    if item.log_index != index:
        raise Http404(_("No such entry on this board."))
    found = item.attachments.filter(sha256=sha256.lower()).first()
    if found is None:
        raise Http404(_("No such attachment."))
    if item.state == Entry.State.WITHDRAWN:
        return _gone(item)
    data = sel._read_attachment(found)
    if data is None:
        raise Http404(_("No such attachment."))
    response = HttpResponse(data, content_type=found.content_type)
    filename = found.name or f"{found.sha256[:12]}"
    response["Content-Disposition"] = "inline; filename*=UTF-8''" + urllib.parse.quote(filename)
    # Shown as the type it was checked to be on upload (PDF or image), never sniffed as another.
    response["X-Content-Type-Options"] = "nosniff"
    response["Access-Control-Allow-Origin"] = "*"
    patch_cache_control(response, public=True, max_age=BYTES_MAX_AGE)
    return response


@require_safe
def feed(request, code: str):
    community = _community(code)
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    build_feed(request, community).write(response, "utf-8")
    patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
    patch_vary_headers(response, ["Accept-Language", "Cookie"])  # the language: header or cookie
    return response


@require_safe
def poster_view(request, code: str, index: int):
    community = _community(code)
    item = _entry(community, index)
    if item.log_index != index:
        return redirect("disclosure:poster", community.code, item.log_index)
    url = request.build_absolute_uri(reverse("disclosure:entry", args=[community.code, item.log_index]))
    withdrawn = item.state == Entry.State.WITHDRAWN
    text = (poster.poster_text(item.body, table=item.section == Section.FINANCE) if not withdrawn
            else poster.PosterText("", False))
    # The same check as the entry page's: a poster of an entry that no longer matches its leaf
    # prints a warning where it would promise that scanning checks it (docs/disclosure.md).
    check = sel.server_check(item)
    return render(request, "disclosure/public/poster.html", {
        "check": check,
        "check_failed": check.status == sel.FAILED,
        "community": community,
        "entry": item,
        "withdrawn": withdrawn,
        "reason": scrub(item.withdrawal_reason) if withdrawn else "",
        "body": text.body,
        "shortened": text.shortened,
        "finance": item.section == Section.FINANCE,
        "entry_url": url,
        "qr": poster.qr_svg(url, title=_("QR code of the entry page: %(url)s") % {"url": url}),
        "fingerprint": sel.key_fingerprint(),
        "checkpoint_size": sel.checkpoint_size(community),
        "section_label": sel.SECTION_LABELS.get(item.section, item.section),
        "printed": timezone.localtime(),
    })
