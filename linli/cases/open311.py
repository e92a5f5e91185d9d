"""Open311 GeoReport v2 at /open311/v2/: other systems read our services and cases and raise cases.

The module has four parts, top to bottom:

* **services** (what a service is): the attributes a category asks for, the notice
  its time limits give, the public face of a case;
* **the write**: :func:`open311_request_submit`, the one service a POST calls;
* **rendering**: :func:`render` turns a payload into JSON or XML (the spec's Spark
  convention: a list becomes a plural element holding singular ones), errors included;
* **views**: parse, call one read or write, render. Only these views are CSRF-exempt:
  they are called by other systems with an api_key, never with a session.

Decisions (docs/open311.md explains them to client developers):

* ``service_request_id`` is the case number (e.g. ``Y-20260301-0007``), a string.
* Linli creates the case while answering the POST, so every service is ``realtime``
  and POST returns ``service_request_id`` directly; ``tokens/{token}`` still answers,
  with the token equal to the request id.
* GET output carries public fields only: never the contact, the reporter or a home
  address; free text is scrubbed (phone and ID numbers, the reporter's and contact's
  names, home doors).
* The feed lists a case only if it was made public: ``public=true`` on the POST (the
  client asked its user), or the reporter's consent elsewhere. Private and anonymous
  cases are never listed nor found by id. One community per request, paged
  (``page``, ``page_size``), and cached for :data:`CACHE_SECONDS` per query.
* A POST's body is refused before it is read when its Content-Length is over
  :data:`MAX_BODY_BYTES`; its api_key may come in the query string (checked before the
  body is read) or in the form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import wraps

from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import EmailValidator, URLValidator
from django.http.multipartparser import MultiPartParserError
from django.db import transaction
from django.http import HttpResponse
from django.utils import dateparse, timezone
from django.utils.translation import get_language, gettext as _, gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt

from linli.community.models import Community, Grid
from linli.core.errors import InvalidInput, LinliError

from . import apikeys, rules
from .models import ApiKey, Case, Category, TimeLimit, TimeUnit, Urgency
from .services import MAX_DESCRIPTION, Intake, case_submit

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Sortable; raise it when what services or definitions look like changes.
CHANGESET = "2026-11-28"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_RESULTS = 1000  # ids asked for at once by service_request_id
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 10_000
CACHE_SECONDS = 30
# A POST is a form of short fields (no files: media is a URL). 64 KiB holds the longest
# description (4000 characters, percent-encoded UTF-8) with room to spare.
MAX_BODY_BYTES = 64 * 1024
MAX_EMAIL = 254
MAX_IDS = 1000
DEFAULT_SPAN = dt.timedelta(days=90)
MAX_SPAN = dt.timedelta(days=90)
MAX_IDEMPOTENCY_KEY = 200
MAX_NAME = 40
MAX_ADDRESS = 200
MAX_URL = 500
MAX_FLOOR = 10
PROPERTY_CODE = "property"

# Linli's field names → the Open311 parameter a client sent.
_PARAMS = {"description": "description", "contact_phone": "phone", "contact_email": "email", "lat": "lat", "grid": "lat",
           "category": "service_code", "urgency": "attribute[urgency]", "household": "address_id"}


# ---------------------------------------------------------------- services ---


class Open311Error(Exception):
    """An error the client gets in the spec's list format, with this HTTP status."""

    def __init__(self, status: int, description, *, headers: dict | None = None):
        super().__init__(str(description))
        self.status = status
        self.description = str(description)
        self.headers = headers or {}


def bad_request(description) -> Open311Error:
    return Open311Error(400, description)


@dataclass(frozen=True)
class Attribute:
    """One question of a service definition."""

    code: str
    datatype: str
    order: int
    description: object
    datatype_description: object = ""
    values: tuple = ()  # (key, name) pairs for the list datatypes
    required: bool = False
    variable: bool = True  # False: a notice shown to the user, not a question

    def as_dict(self) -> dict:
        return {"variable": self.variable, "code": self.code, "datatype": self.datatype, "required": self.required,
                "datatype_description": str(self.datatype_description) or None, "order": self.order,
                "description": str(self.description),
                "values": [{"key": key, "name": str(name)} for key, name in self.values]}

    def clean(self, value: str) -> str:
        value = value.strip()
        if self.datatype == "singlevaluelist":
            if value not in {key for key, _name in self.values}:
                raise bad_request(_("attribute[%(code)s]: choose one of %(keys)s.")
                                  % {"code": self.code, "keys": ", ".join(k for k, _n in self.values)})
        elif not value or len(value) > MAX_FLOOR or any(ch in value for ch in "\r\n\t"):
            raise bad_request(_("attribute[%(code)s]: at most %(n)d characters on one line.")
                              % {"code": self.code, "n": MAX_FLOOR})
        return value


URGENCY = Attribute("urgency", "singlevaluelist", 1, gettext_lazy("How urgent is it?"),
                    values=((Urgency.NORMAL.value, Urgency.NORMAL.label), (Urgency.URGENT.value, Urgency.URGENT.label)))
FLOOR = Attribute("floor", "string", 2, gettext_lazy("Which floor is it on?"),
                  gettext_lazy("A floor number, e.g. 3 or B1."))
# Not a question: what every request needs besides its attributes, stated in the definition.
CONTACT = Attribute("contact", "string", 90, gettext_lazy(
    "A way to reply is required: a phone number (phone) or an e-mail address (email). The report is "
    "published on the public feed only with public=true, and then without names, phone numbers or doors."),
    variable=False)


@dataclass
class Services:
    """A community's categories as Open311 services, with their time limits, read once."""

    community: Community
    categories: dict[str, Category]
    limits: dict[tuple[int, str], TimeLimit]

    @classmethod
    def of(cls, community: Community, *, active_only: bool = True) -> "Services":
        rows = Category.objects.filter(community=community).select_related("parent").order_by("position", "code")
        if active_only:
            rows = rows.filter(active=True)
        limits = {(t.category_id, t.urgency): t for t in TimeLimit.objects.filter(category__community=community)}
        return cls(community, {c.code: c for c in rows}, limits)

    @classmethod
    def one(cls, community: Community, service_code: str, *, active_only: bool = True) -> "Services":
        """Just one service and its time limits (or none, if the code is unknown):
        two small queries where a POST needs no more."""
        rows = Category.objects.filter(community=community, code=service_code).select_related("parent").order_by()
        if active_only:
            rows = rows.filter(active=True)
        category = next(iter(rows[:1]), None)  # (community, code) is unique
        if category is None:
            return cls(community, {}, {})
        ids = [category.pk] + ([category.parent_id] if category.parent_id else [])
        limits = {(t.category_id, t.urgency): t for t in TimeLimit.objects.filter(category_id__in=ids).order_by()}
        return cls(community, {category.code: category}, limits)

    def get(self, service_code: str) -> Category | None:
        return self.categories.get(service_code)

    def limit(self, category: Category | None, urgency: str) -> TimeLimit | None:
        if category is None:
            return None
        return self.limits.get((category.pk, urgency)) or (
            self.limits.get((category.parent_id, urgency)) if category.parent_id else None)

    def attributes(self, category: Category) -> list[Attribute]:
        """Urgency where the category has an urgent time limit; a floor for property matters."""
        found = []
        if self.limit(category, Urgency.URGENT) is not None:
            found.append(URGENCY)
        if PROPERTY_CODE in (category.code, category.parent.code if category.parent_id else None):
            found.append(FLOOR)
        return found

    def notice(self, category: Category | None, urgency: str) -> str | None:
        limit = self.limit(category, urgency)
        if limit is None:
            return None
        return _("First reply within %(response)s; resolved within %(resolve)s.") % {
            "response": _amount(limit.response_amount, limit.response_unit),
            "resolve": _amount(limit.resolve_amount, limit.resolve_unit)}

    def service(self, category: Category) -> dict:
        return {
            "service_code": category.service_code,
            "service_name": category.name,
            "description": category.description or None,
            "metadata": True,  # every definition states the contact requirement (CONTACT)
            "type": "realtime",
            "keywords": ", ".join(w.strip() for w in category.keywords.splitlines() if w.strip()) or None,
            "group": category.parent.name if category.parent_id else category.name,
        }

    def definition(self, category: Category) -> dict:
        return {"service_code": category.service_code,
                "attributes": [a.as_dict() for a in self.attributes(category) + [CONTACT]]}


def _amount(amount: int, unit: str) -> str:
    if unit == TimeUnit.WORKING_DAYS:
        return ngettext("%(n)d working day", "%(n)d working days", amount) % {"n": amount}
    return ngettext("%(n)d hour", "%(n)d hours", amount) % {"n": amount}


def community_for(params, *, api_key: ApiKey | None = None) -> Community:
    """The community a request is about: the jurisdiction_id's, or the key's, or the only one."""
    jurisdiction = (params.get("jurisdiction_id") or "").strip()
    community = None
    if jurisdiction:
        community = Community.objects.select_related("street").filter(code=jurisdiction).first()
        if community is None:
            raise Open311Error(404, _("jurisdiction_id %(id)s was not found.") % {"id": jurisdiction[:40]})
    if api_key is not None:
        if community is not None and community.pk != api_key.community_id:
            raise Open311Error(403, _("This api_key is not valid for jurisdiction_id %(id)s.") % {"id": jurisdiction})
        return api_key.community
    if community is not None:
        return community
    only = list(Community.objects.select_related("street").order_by("pk")[:2])
    if len(only) == 1:
        return only[0]
    if not only:
        raise Open311Error(404, _("This installation serves no community yet."))
    raise bad_request(_("jurisdiction_id was not provided: this installation serves several communities."))


def public_text(text: str | None, names=()) -> str | None:
    """Free text for anyone outside the office (the public, a partner's key): as
    :func:`rules.scrub_for_outsiders` gives it, None where nothing is left."""
    if not text:
        return None
    return rules.scrub_for_outsiders(None, text, names) or None


def _w3(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _status_notes(case: Case, names=()) -> str | None:
    if case.status == Case.Status.REJECTED:
        return public_text(case.reject_reason, names)
    if case.status == Case.Status.MERGED:
        return _("Duplicate of %(number)s.") % {"number": case.master.number} if case.master_id else None
    if case.status == Case.Status.CLOSED and case.unresolved_kind:
        return public_text(case.unresolved_explanation, names)  # closed as not resolvable: why
    if case.status in (Case.Status.RESOLVED, Case.Status.CLOSED):
        return public_text(case.resolution, names)
    return None


def public_request(case: Case, services: Services) -> dict:
    """A case as GET requests shows it: no contact, no reporter, no home address."""
    grid = case.grid
    if case.place == Case.Place.POINT and case.latitude is not None:
        lat, lon = case.latitude, case.longitude
    else:
        lat, lon = (grid.latitude, grid.longitude) if grid is not None else (None, None)
    names = rules.case_names(case)
    if case.place == Case.Place.HOME:
        address = grid.name if grid else None
    else:
        address = public_text(case.address, names) or (grid.name if grid else None)
    closed = not case.is_open
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(case, names),
        "service_name": case.category.name if case.category_id else None,
        "service_code": case.category.service_code if case.category_id else None,
        "description": public_text(case.description, names),
        "agency_responsible": case.unit.name if case.unit_id else None,
        "service_notice": services.notice(case.category, case.urgency),
        "requested_datetime": _w3(case.created_at),
        "updated_datetime": _w3(case.closed_at if closed and case.closed_at else case.updated_at),
        "expected_datetime": _w3(case.resolve_due),
        "address": address,
        "lat": lat,
        "long": lon,
        "media_url": None,
    }


def published(cases):
    """The cases the public feed may show: made public, and not anonymous."""
    return cases.filter(public=True, anonymous=False)


def _cases(community: Community):
    return (published(Case.objects.filter(community=community))
            .select_related("category", "category__parent", "unit", "grid", "master", "reporter"))


def _page(params) -> tuple[int, int]:
    """Open311's paging convention: ``page`` from 1, ``page_size`` up to :data:`MAX_PAGE_SIZE`."""
    values = []
    for name, default, top in (("page", 1, MAX_PAGE), ("page_size", PAGE_SIZE, MAX_PAGE_SIZE)):
        raw = (params.get(name) or "").strip()
        if not raw:
            values.append(default)
            continue
        if not raw.isdigit() or not 1 <= int(raw) <= top:
            raise bad_request(_("%(param)s: a whole number from 1 to %(n)d.") % {"param": name, "n": top})
        values.append(int(raw))
    return values[0], values[1]


_CACHED_PARAMS = ("service_request_id", "service_code", "status", "start_date", "end_date", "page", "page_size")


def requests_search_cached(community: Community, params) -> list[dict]:
    """:func:`requests_search`, kept for :data:`CACHE_SECONDS` per community, language and
    query (the answer names services and notices in the client's language)."""
    query = json.dumps([community.pk, get_language()] + [(params.get(p) or "").strip() for p in _CACHED_PARAMS],
                       ensure_ascii=True)
    key = "open311:requests:" + hashlib.sha256(query.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = requests_search(community, params)
        cache.set(key, found, CACHE_SECONDS)
    return found


def requests_search(community: Community, params) -> list[dict]:
    """GET requests: by ids (overriding everything else), or by code, status and dates, a
    page at a time. Only published cases (:func:`published`)."""
    services = Services.of(community, active_only=False)
    cases = _cases(community)
    ids = _comma_list(params.get("service_request_id"))
    if ids:
        if len(ids) > MAX_IDS:
            raise bad_request(_("service_request_id: at most %(n)d ids at once.") % {"n": MAX_IDS})
        return [public_request(c, services) for c in cases.filter(number__in=ids)[:MAX_RESULTS]]
    page, page_size = _page(params)
    codes = _comma_list(params.get("service_code"))
    unknown = [code for code in codes if services.get(code) is None]
    if unknown:
        raise bad_request(_("service_code %(code)s was not found.") % {"code": unknown[0][:40]})
    if codes:
        cases = cases.filter(category__in=[services.get(code) for code in codes])
    statuses = {s.lower() for s in _comma_list(params.get("status"))}
    if statuses - {"open", "closed"}:
        raise bad_request(_("status: use open, closed or both, separated by a comma."))
    if statuses == {"open"}:
        cases = cases.filter(status__in=Case.OPEN_STATUSES)
    elif statuses == {"closed"}:
        cases = cases.exclude(status__in=Case.OPEN_STATUSES)
    start = _parse_when(params.get("start_date"), "start_date")
    end = _parse_when(params.get("end_date"), "end_date")
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - DEFAULT_SPAN
    if end is None:
        end = start + DEFAULT_SPAN
    if start > end:
        raise bad_request(_("start_date is after end_date."))
    if end - start > MAX_SPAN:
        raise bad_request(_("start_date and end_date may be at most 90 days apart."))
    cases = cases.filter(created_at__gte=start, created_at__lte=end)
    first = (page - 1) * page_size
    return [public_request(c, services) for c in cases.order_by("-created_at", "-id")[first:first + page_size]]


def request_get(community: Community, request_id: str) -> dict:
    case = _cases(community).filter(number=request_id.strip()).first() if len(request_id) <= 32 else None
    if case is None:
        raise Open311Error(404, _("service_request_id %(id)s was not found.") % {"id": request_id[:40]})
    return public_request(case, Services.of(community, active_only=False))


def _comma_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _parse_when(value: str | None, param: str) -> dt.datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    # An unencoded "+" in a query string arrives as a space: 2026-01-01T00:00:00 08:00.
    value = re.sub(r" (\d\d:?\d\d)$", r"+\1", value)
    try:
        when = dateparse.parse_datetime(value)
        if when is None:
            day = dateparse.parse_date(value)
            when = dt.datetime.combine(day, dt.time.min) if day else None
    except ValueError:
        when = None
    if when is None:
        raise bad_request(_("%(param)s: use the w3 format, e.g. 2026-01-01T00:00:00+08:00.") % {"param": param})
    return timezone.make_aware(when) if timezone.is_naive(when) else when


# --------------------------------------------------------------- the write ---


@dataclass
class Submission:
    """A POST requests form, parsed: every value a string, as the client sent it."""

    service_code: str = ""
    lat: float | None = None
    long: float | None = None
    address_string: str = ""
    address_id: str = ""
    description: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    email: str = ""
    media_url: str = ""
    public: bool = False
    attributes: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, form) -> "Submission":
        s = cls(**{name: (form.get(name) or "").strip() for name in (
            "service_code", "address_string", "address_id", "first_name", "last_name", "phone", "email",
            "media_url")})
        public = (form.get("public") or "").strip().lower()
        if public not in ("", "true", "false"):
            raise bad_request(_("public: send true or false."))
        s.public = public == "true"
        s.description = (form.get("description") or "").strip()
        if not s.service_code:
            raise bad_request(_("service_code was not provided."))
        lat, lon = (form.get("lat") or "").strip(), (form.get("long") or "").strip()
        if bool(lat) != bool(lon):
            raise bad_request(_("lat and long: send both, or neither."))
        if lat:
            s.lat, s.long = _coordinate(lat, "lat"), _coordinate(lon, "long")
        if s.lat is None and not s.address_string:
            if s.address_id:
                raise bad_request(_("address_id is not supported here: send lat and long, or address_string."))
            raise bad_request(_("Send the place: lat and long, or address_string."))
        if len(s.address_string) > MAX_ADDRESS:
            raise bad_request(_("address_string: at most %(n)d characters.") % {"n": MAX_ADDRESS})
        if len(s.description) > MAX_DESCRIPTION:
            raise bad_request(_("description: at most %(n)d characters.") % {"n": MAX_DESCRIPTION})
        if len(s.first_name) > MAX_NAME or len(s.last_name) > MAX_NAME:
            raise bad_request(_("first_name and last_name: at most %(n)d characters each.") % {"n": MAX_NAME})
        if s.email:
            try:
                if len(s.email) > MAX_EMAIL:
                    raise ValueError
                EmailValidator()(s.email)
            except Exception:
                raise bad_request(_("email: send one e-mail address."))
        if not s.phone and not s.email:
            raise bad_request(_("Send a phone number or an e-mail address, so that the community can reply."))
        if s.media_url:
            try:
                if len(s.media_url) > MAX_URL:
                    raise ValueError
                URLValidator(schemes=["http", "https"])(s.media_url)
            except Exception:
                raise bad_request(_("media_url: send one http or https address."))
        for name in form:
            match = re.fullmatch(r"attribute\[([^\[\]]+)\](\[\])?", name)
            if match:
                values = form.getlist(name) if hasattr(form, "getlist") else [form[name]]
                if match.group(2) or len(values) != 1:
                    raise bad_request(_("attribute[%(code)s]: send one value.") % {"code": match.group(1)[:40]})
                if values[0].strip():  # an empty parameter is no parameter
                    s.attributes[match.group(1)] = values[0]
        return s

    @property
    def contact_name(self) -> str:
        if _has_cjk(self.first_name + self.last_name):
            return f"{self.last_name}{self.first_name}"  # 张 + 三 → 张三
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def _coordinate(value: str, param: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise bad_request(_("%(param)s: send a number in WGS84 degrees.") % {"param": param})
    return number


def _grid_named_in(community: Community, address: str) -> Grid | None:
    """The courtyard an address names (the longest grid name it contains), if any."""
    if not address:
        return None
    grids = Grid.objects.filter(community=community).only("community_id", "name").order_by()
    named = [g for g in grids if g.name and g.name in address]
    return max(named, key=lambda g: len(g.name)) if named else None


def open311_request_submit(*, api_key: ApiKey, submission: Submission,
                           idempotency_key: str | None = None) -> tuple[Case, bool]:
    """Raise a case in the key's community from an Open311 POST. Returns (case, created);
    a retry with the same Idempotency-Key returns the first case and writes nothing."""
    case, created, _services = _request_submit(api_key=api_key, submission=submission,
                                               idempotency_key=idempotency_key)
    return case, created


@transaction.atomic
def _request_submit(*, api_key: ApiKey, submission: Submission,
                    idempotency_key: str | None) -> tuple[Case, bool, "Services"]:
    """:func:`open311_request_submit`, also returning the service it read, which the
    answer's service_notice needs again."""
    community = api_key.community
    services = Services.one(community, submission.service_code)
    category = services.get(submission.service_code)
    if category is None:
        raise bad_request(_("service_code %(code)s was not found.") % {"code": submission.service_code[:40]})
    offered = {a.code: a for a in services.attributes(category)}
    answers = {}
    for code, value in submission.attributes.items():
        if code not in offered:
            raise bad_request(_("attribute[%(code)s] is not part of service %(service)s.")
                              % {"code": code[:40], "service": category.code})
        answers[code] = offered[code].clean(value)
    for attribute in offered.values():
        if attribute.required and attribute.code not in answers:
            raise bad_request(_("attribute[%(code)s] is required.") % {"code": attribute.code})
    address = submission.address_string
    if "floor" in answers:
        address = ", ".join(p for p in (address, _("floor %(floor)s") % {"floor": answers["floor"]}) if p)
    point = submission.lat is not None
    intake = Intake(
        community=community, channel=Case.Channel.OPEN311, description=submission.description,
        category=category, urgency=answers.get("urgency", Urgency.NORMAL),
        contact_name=submission.contact_name, contact_phone=submission.phone,
        contact_email=submission.email or "", public=submission.public,
        place=Case.Place.POINT if point else Case.Place.GRID,
        grid=None if point else _grid_named_in(community, submission.address_string),
        latitude=submission.lat, longitude=submission.long, address=address[:MAX_ADDRESS],
        # Kept for staff to follow; the spec has no convention for fetching media.
        internal_note=(_("Open311 media_url: %(url)s") % {"url": submission.media_url}) if submission.media_url else "",
    )
    actor = apikeys.ApiClient(api_key)
    try:
        case, created = case_submit(actor=actor, intake=intake,
                                    idempotency=(f"apikey:{api_key.pk}", idempotency_key) if idempotency_key else None)
    except InvalidInput as error:
        param = _PARAMS.get(error.field or "")
        raise bad_request(f"{param}: {error.message}" if param else error.message)
    if case.category_id != category.pk:  # a replay of a case staff have since recategorised
        services = Services.one(community, case.category.code, active_only=False) if case.category_id else None
    return case, created, services


def submitted_response(case: Case, services: Services | None = None) -> list[dict]:
    if services is None or case.category_id is None or case.category.code not in services.categories:
        services = (Services.one(case.community, case.category.code, active_only=False) if case.category_id
                    else Services(case.community, {}, {}))
    return [{"service_request_id": case.number, "service_notice": services.notice(case.category, case.urgency),
             "account_id": None}]


# --------------------------------------------------------------- rendering ---

# Spark convention: the element each list holds.
_ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
          "values": "value", "endpoints": "endpoint", "formats": "format"}
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _element(tag: str, value) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        element.extend(_element(key, item) for key, item in value.items())
    elif isinstance(value, (list, tuple)):
        element.extend(_element(_ITEMS[tag], item) for item in value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _XML_UNSAFE.sub("", str(value))
    return element


def render(fmt: str, root: str, payload, *, status: int = 200, headers: dict | None = None) -> HttpResponse:
    """The one place JSON and XML are written. ``root`` names the XML root element."""
    if fmt == "json":
        body = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False)
    else:
        fmt = "xml"
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(_element(root, payload), encoding="unicode")
    response = HttpResponse(body.encode("utf-8"), status=status, content_type=FORMATS[fmt])
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def render_error(fmt: str, error: Open311Error) -> HttpResponse:
    return render(fmt, "errors", [{"code": error.status, "description": error.description}],
                  status=error.status, headers=error.headers)


# ------------------------------------------------------------------- views ---


def open311_view(*methods):
    """Format check, method check, errors in the spec's format; CSRF-exempt."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, fmt: str = "xml", **kwargs):
            fmt = fmt.lower()
            try:
                if fmt not in FORMATS:
                    raise Open311Error(404, _("Unknown format %(format)s: use json or xml.") % {"format": fmt[:10]})
                if request.method not in allowed:
                    raise Open311Error(405, _("Use %(methods)s here.") % {"methods": " or ".join(sorted(methods))},
                                       headers={"Allow": ", ".join(sorted(allowed))})
                if request.method == "POST":
                    api_key = _keyed_post(request)
                    params = request.POST
                    api_key = api_key or _keyed(request, params)
                else:
                    params = request.GET
                    api_key = _keyed(request, params)
                return view(request, fmt, params, api_key, *args, **kwargs)
            except Open311Error as error:
                return render_error(fmt if fmt in FORMATS else "xml", error)
            except (RequestDataTooBig, TooManyFilesSent):
                return render_error(fmt if fmt in FORMATS else "xml", _too_large())
            except (TooManyFieldsSent, MultiPartParserError):
                return render_error(fmt if fmt in FORMATS else "xml",
                                    bad_request(_("The form cannot be read: too many fields, or malformed.")))
            except LinliError as error:
                return render_error(fmt if fmt in FORMATS else "xml", bad_request(error.message))
        return wrapper
    return decorate


def _too_large() -> Open311Error:
    return Open311Error(413, _("The request body may be at most %(n)d KB.") % {"n": MAX_BODY_BYTES // 1024})


def _keyed_post(request) -> ApiKey | None:
    """Before a POST's body is read: its declared size, then an api_key in the query string
    (checked now, so a wrong one costs nothing). None: the key is in the form."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise bad_request(_("Content-Length is not a number."))
    if length > MAX_BODY_BYTES:
        raise _too_large()
    if (request.GET.get("api_key") or "").strip():
        return _keyed(request, request.GET)
    return None


def _keyed(request, params) -> ApiKey | None:
    """The api_key sent, checked and counted; None when none was sent (reads need none)."""
    key = (params.get("api_key") or "").strip()
    if not key:
        if request.method == "POST":
            raise Open311Error(403, _("api_key was not provided: posting a request needs one."))
        return None
    api_key = apikeys.authenticate(key)
    if api_key is None:
        raise Open311Error(403, _("Invalid or revoked api_key."))
    try:
        apikeys.apikey_hit(api_key)
    except apikeys.RateLimited as error:
        raise Open311Error(429, error.message, headers={"Retry-After": str(error.retry_after)})
    return api_key


@open311_view("GET")
def discovery(request, fmt, params, api_key):
    base = request.build_absolute_uri(request.path.rsplit("/", 1)[0] + "/")
    return render(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": _("Write to or call the community office that runs this installation."),
        "key_service": _("Ask the community office for an api_key; its administrators create one with "
                         "\"linli apikey create\"."),
        "endpoints": [{"specification": SPECIFICATION, "url": base, "changeset": CHANGESET, "type": "production",
                       "formats": ["text/xml", "application/json"]}],
    })


@open311_view("GET")
def service_list(request, fmt, params, api_key):
    services = Services.of(community_for(params, api_key=api_key))
    return render(fmt, "services", [services.service(c) for c in services.categories.values()])


@open311_view("GET")
def service_definition(request, fmt, params, api_key, service_code):
    services = Services.of(community_for(params, api_key=api_key))
    category = services.get(service_code)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": service_code[:40]})
    return render(fmt, "service_definition", services.definition(category))


@open311_view("GET", "POST")
def service_requests(request, fmt, params, api_key):
    if request.method == "POST":
        community_for(params, api_key=api_key)  # a jurisdiction_id sent must be the key's
        idempotency_key = (request.headers.get("Idempotency-Key") or "").strip() or None
        if idempotency_key and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise bad_request(_("Idempotency-Key: at most %(n)d characters.") % {"n": MAX_IDEMPOTENCY_KEY})
        case, created, services = _request_submit(api_key=api_key, submission=Submission.parse(params),
                                                  idempotency_key=idempotency_key)
        # A retry with the same Idempotency-Key gets the very same answer.
        return render(fmt, "service_requests", submitted_response(case, services))
    return render(fmt, "service_requests",
                  requests_search_cached(community_for(params, api_key=api_key), params))


@open311_view("GET")
def service_request(request, fmt, params, api_key, request_id):
    return render(fmt, "service_requests", [request_get(community_for(params, api_key=api_key), request_id)])


@open311_view("GET")
def token(request, fmt, params, api_key, token):
    """Cases are created while the POST is answered, so a token is the request id itself. It
    answers for unpublished cases too: it tells only the number the client already holds."""
    token = token.strip()
    community = community_for(params, api_key=api_key)
    if len(token) > 32 or not Case.objects.filter(community=community, number=token).exists():
        raise Open311Error(404, _("service_request_id %(id)s was not found.") % {"id": token[:40]})
    return render(fmt, "service_requests", [{"service_request_id": token, "token": token}])


@csrf_exempt
def not_found(request, path=""):
    """Anything else under /open311/v2/: the spec's 404, in XML (its required format)."""
    return render_error("xml", Open311Error(404, _("There is no such Open311 resource; see discovery.xml.")))
