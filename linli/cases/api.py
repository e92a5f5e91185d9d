"""The cases router of the JSON API (/api/v1/, mounted by linli.config.api): intake, a
resident's own cases, staff transitions and the three rates.

Handlers parse, authorise, call one service and render, like the pages.

Authentication, tried in this order:

* ``Authorization: Bearer <key>`` or ``X-Api-Key: <key>``: an API key of one
  community (``linli apikey create``), counted against the key's rate limit.
  A key acts as a system, not a person: it may raise cases and read its
  community's cases, and make no transitions.
* the web app's session, with Django's CSRF check on every unsafe method.

Every error is one object, ``{"code", "message", "field"}``
(:meth:`linli.core.errors.LinliError.as_dict`):

* 400 the values are well-formed but refused (too short, outside the community, not a photo …);
* 401 no credentials, or a key that is unknown, wrong or revoked;
* 403 signed in, but not allowed (or the CSRF check failed);
* 404 no such case, as far as this account may know;
* 409 the case is not in a state for this action, or an Idempotency-Key reused for another request;
* 422 the request does not match the schema (a missing field, a wrong type, an unknown choice);
* 429 too many requests with this key this minute (``Retry-After`` says when to try again).

Output never carries personal data, except a reporter's own contact, masked. A key, and
any account that may see a case but is not its community's office or grid worker (a handling
unit, the street supervisor), reads its free text (description, address, result, reasons,
comment) scrubbed: the reporter's and contact's names removed, phone and ID numbers masked,
home doors removed (:func:`linli.cases.open311.public_text`).

Bodies are refused before they are read when their Content-Length is over
:data:`MAX_BODY_BYTES` (four photos and the form), and JSON nested too deep for the parser is
a 400, like any JSON that cannot be read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Literal, Optional

import pydantic
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.errors import AuthenticationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from linli.community.models import Community, Grid, Organisation
from linli.community.scope import scope_of
from linli.core.api import ERRORS, SchemaError
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.masking import scrub

from . import apikeys, photos as case_photos, rates, rules, services
from .open311 import public_text
from .models import Case, Category
from .selectors import cases_for
from .views_photos import photo_response
from .workflow import CASE, SYSTEM, allowed_moves

API_TITLE = "Linli API"
IDEMPOTENCY_KEY_MAX = 200
_IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces
PAGE_SIZE_MAX = 100
# A case with four photos, each at most photos.MAX_BYTES, and its fields.
MAX_BODY_BYTES = case_photos.MAX_PHOTOS * case_photos.MAX_BYTES + 1024 * 1024


class BodyTooBig(InvalidInput):
    code = "too_big"


def check_body_size(request) -> None:
    """Refuse a body by its declared size, before anything reads it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BODY_BYTES + 1
    if length > MAX_BODY_BYTES:
        raise BodyTooBig(_("The request is too large."), code="too_big")


# --- authentication -------------------------------------------------------------------------------

class _KeyCheck:
    """An API key presented is either valid or the request fails with 401: a wrong key
    never falls through to the session."""

    def authenticate(self, request, key):
        if not key:
            return None
        api_key = apikeys.authenticate(key.strip())
        if api_key is None:
            raise AuthenticationError()
        apikeys.apikey_hit(api_key)  # RateLimited → 429
        return apikeys.ApiClient(api_key)


class BearerKey(_KeyCheck, HttpBearer):
    pass


class HeaderKey(_KeyCheck, APIKeyHeader):
    param_name = "X-Api-Key"


class SessionWithCsrf(SessionAuth):
    """The web app's session. CSRF is checked only for a signed-in session, so a
    request with no credentials at all is a 401, not a CSRF failure."""

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        # The CSRF check may read the form: a body too large is refused first.
        check_body_size(request)
        return super()._get_key(request)

    def authenticate(self, request, key):
        return request.user if request.user.is_authenticated and request.user.is_active else None


def _client(request) -> apikeys.ApiClient | None:
    return request.auth if isinstance(request.auth, apikeys.ApiClient) else None


def _user(request):
    return None if _client(request) else request.auth


def _require_user(request):
    user = _user(request)
    if user is None:
        raise PermissionDenied(_("This needs a signed-in account, not an API key."), code="account_required")
    return user


def _visible_cases(request):
    client = _client(request)
    if client is not None:
        # A key reads what its community publishes through Open311 too: no personal data.
        return Case.objects.filter(community_id=client.api_key.community_id)
    return cases_for(request.auth)


def _case(request, number: str) -> Case:
    number = (number or "").strip()
    case = (_visible_cases(request).select_related("community", "category", "grid", "unit", "master", "reporter")
            .filter(number=number).first()) if 0 < len(number) <= 32 else None
    if case is None:
        raise NotFound(_("No such case."), code="not_found")
    return case


router = Router(auth=[BearerKey(), HeaderKey(), SessionWithCsrf()], tags=["cases"])


# --- schemas --------------------------------------------------------------------------------------

Urgency = Literal["normal", "urgent"]
PlaceKind = Literal["home", "grid", "point"]
ChannelIn = Literal["web", "phone", "walk_in", "patrol", "api"]
# The moves people make (the deadline job's are not offered), as the workflow table lists them.
Action = Literal[tuple(m.name for m in CASE.moves if m.who != SYSTEM)]  # type: ignore[valid-type]
RatingIn = Literal["satisfied", "basic", "unsatisfied"]
STAFF_CHANNELS = ("phone", "walk_in", "patrol")


# What the server enforces beyond each field's own type, stated in the OpenAPI document
# (JSON Schema 2020-12, which OpenAPI 3.1 uses): the place's fields and the contact.
_CASE_IN_RULES = {"allOf": [
    {"if": {"properties": {"place": {"const": "point"}}, "required": ["place"]},
     "then": {"required": ["lat", "lon"]}},
    {"if": {"properties": {"place": {"const": "grid"}}},
     "then": {"anyOf": [{"required": ["grid"]}, {"required": ["lat", "lon"]}]}},
], "dependentRequired": {"lat": ["lon"], "lon": ["lat"]}}


class CaseIn(Schema):
    """A new case. Send it as JSON, or as multipart/form-data with up to four files under ``photos``.

    Besides each field's rules: ``place`` point needs ``lat`` and ``lon``; grid (the default)
    needs ``grid`` or ``lat`` and ``lon``; home only for a resident's own request. An API key or
    staff entering a phone call or walk-in must send ``contact_phone``; a patrol needs none.
    The whole body is at most 33 MB (four photos of 8 MB and the fields)."""

    model_config = pydantic.ConfigDict(extra="forbid", json_schema_extra=_CASE_IN_RULES)

    description: str = Field(..., description="What is wrong, in the resident's words (5 to 4000 characters, "
                                              "after surrounding spaces are removed).",
                             json_schema_extra={"minLength": 5, "maxLength": 4000})
    category: Optional[str] = Field(None, max_length=40, description="A category code; left out: suggested.")
    urgency: Urgency = "normal"
    place: PlaceKind = Field("grid", description="home: the reporter's home; grid: a courtyard; point: lat/lon.")
    grid: Optional[str] = Field(None, max_length=16, description="The courtyard's code.")
    lat: Optional[float] = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lon: Optional[float] = Field(None, ge=-180, le=180, allow_inf_nan=False)
    address: str = Field("", max_length=200, description="Where exactly, in words.")
    contact_name: str = Field("", max_length=40)
    contact_phone: str = Field(
        "", max_length=20, description="A mainland mobile number (11 digits, 13 to 19 first). Required when no "
                                       "resident account reports (a key; staff entering a phone call or walk-in); "
                                       "not for a patrol. Spaces, dashes and a +86 prefix are ignored.")
    anonymous: bool = Field(False, description="Keep the reporter's identity from the handling unit.")
    channel: Optional[ChannelIn] = Field(
        None, description="Staff say how the request came in (phone, walk_in, patrol); residents: web; keys: api.")
    community: Optional[str] = Field(None, max_length=20, description="A community code, where the account has several.")


_MOVE_NEEDS = {"reject": ["reason"], "transfer": ["unit", "reason"], "return": ["reason"],
               "resolve": ["resolution"], "rate": ["rating"], "visit_back": ["rating"], "merge": ["master"],
               "close_unresolved": ["kind", "explanation"]}
_TRANSITION_IN_RULES = {"allOf": [
    {"if": {"properties": {"action": {"const": action}}}, "then": {"required": needs}}
    for action, needs in _MOVE_NEEDS.items()]}


class TransitionIn(Schema):
    """One move of a case, with the fields that move needs: reject (reason, 2 to 500
    characters), transfer (unit, reason), return (reason), resolve (resolution, 2 to 4000
    characters; photos as multipart), rate and visit_back (rating), merge (master), close_unresolved
    (kind, explanation; rating and comment when the resident gave one)."""

    model_config = pydantic.ConfigDict(extra="forbid", json_schema_extra=_TRANSITION_IN_RULES)

    action: Action
    category: Optional[str] = Field(None, max_length=40, description="accept: the category code.")
    urgency: Optional[Urgency] = Field(None, description="accept: normal or urgent.")
    unit: Optional[int] = Field(None, description="dispatch, transfer: the handling unit's id.")
    reason: Optional[str] = Field(None, max_length=500, description="reject, transfer, return.")
    resolution: Optional[str] = Field(None, max_length=4000, description="resolve: what was done.")
    rating: Optional[RatingIn] = Field(None, description="rate, visit_back, close_unresolved (optional).")
    comment: Optional[str] = Field(None, max_length=500, description="rate, visit_back, close_unresolved.")
    kind: Optional[Literal[tuple(Case.Unresolved.values)]] = Field(  # type: ignore[valid-type]
        None, description="close_unresolved: why it cannot be resolved.")
    explanation: Optional[str] = Field(None, max_length=2000,
                                       description="close_unresolved: what the resident was told.")
    master: Optional[str] = Field(None, max_length=32, description="merge: the number of the case to merge into.")


class NamedOut(Schema):
    code: str
    name: str


class UnitOut(Schema):
    id: int
    name: str


class PhotoOut(Schema):
    id: int
    stage: str
    url: str
    content_type: str
    width: int
    height: int
    sha256: str


class ContactOut(Schema):
    name: Optional[str] = None
    phone: Optional[str] = None


class CaseOut(Schema):
    number: str
    community: str
    status: str
    status_label: str
    channel: str
    urgency: str
    description: str
    category: Optional[NamedOut] = None
    needs_triage: bool
    place: str
    grid: Optional[NamedOut] = None
    lat: Optional[float] = None
    lon: Optional[float] = None
    address: str
    unit: Optional[UnitOut] = None
    master: Optional[str] = None
    anonymous: bool
    created_at: str
    accepted_at: Optional[str] = None
    dispatched_at: Optional[str] = None
    first_contact_at: Optional[str] = None
    resolved_at: Optional[str] = None
    closed_at: Optional[str] = None
    response_due: Optional[str] = None
    resolve_due: Optional[str] = None
    response_overdue: bool
    resolve_overdue: bool
    reopen_count: int
    reject_reason: str
    resolution: str
    rating: str
    rating_comment: str
    photos: list[PhotoOut]
    allowed_actions: list[str] = Field(description="The actions this account may take now.")
    mine: bool = Field(description="True for the reporter themself.")
    contact: Optional[ContactOut] = Field(None, description="The reporter's own contact, masked; only for them.")


class CasePageOut(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    items: list[CaseOut]


class RateRowOut(Schema):
    key: Optional[int | str] = None
    label: str
    counts: dict[str, int]
    rates: dict[str, Optional[float]]


class RatesOut(Schema):
    group: str
    period: Optional[str] = None
    start: Optional[str] = None
    end: Optional[str] = None
    total: RateRowOut
    rows: list[RateRowOut]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _masked(value) -> str | None:
    return str(value) if value else None


def _outsider(case: Case, request) -> bool:
    """Whether this requester reads the case's text scrubbed: a key always; an account unless
    it is the case's office, its grid worker or its reporter (``rules.case_view``)."""
    user = _user(request)
    return user is None or rules.case_view(user, case) != rules.FULL


def case_out(case: Case, request) -> dict:
    """A case as the API shows it to this requester."""
    user = _user(request)
    mine = user is not None and rules.actor_may(user, case, rules.REPORTER)
    if _outsider(case, request):
        names = rules.case_names(case)

        def text(value):
            return public_text(value, names) or ""
    elif mine:
        def text(value):  # the reporter reads their own words as they wrote them
            return value
    else:
        def text(value):  # the office reads ID and phone numbers typed into the text masked, as on its pages
            return scrub(value or "")
    contact = None
    if mine:
        reporter = case.reporter
        contact = {
            "name": _masked(case.contact_name) or (_masked(reporter.name) if reporter else None),
            "phone": _masked(case.contact_phone) or (_masked(reporter.phone) if reporter else None),
        }
    return {
        "number": case.number,
        "community": case.community.code,
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "channel": case.channel,
        "urgency": case.urgency,
        "description": text(case.description),
        "category": {"code": case.category.code, "name": case.category.name} if case.category_id else None,
        "needs_triage": case.needs_triage,
        "place": case.place,
        "grid": {"code": case.grid.code, "name": case.grid.name} if case.grid_id else None,
        "lat": case.latitude,
        "lon": case.longitude,
        "address": text(case.address),
        "unit": {"id": case.unit.pk, "name": case.unit.name} if case.unit_id else None,
        "master": case.master.number if case.master_id else None,
        "anonymous": case.anonymous,
        "created_at": _iso(case.created_at),
        "accepted_at": _iso(case.accepted_at),
        "dispatched_at": _iso(case.dispatched_at),
        "first_contact_at": _iso(case.first_contact_at),
        "resolved_at": _iso(case.resolved_at),
        "closed_at": _iso(case.closed_at),
        "response_due": _iso(case.response_due),
        "resolve_due": _iso(case.resolve_due),
        "response_overdue": case.response_overdue,
        "resolve_overdue": case.resolve_overdue,
        "reopen_count": case.reopen_count,
        "reject_reason": text(case.reject_reason),
        "resolution": text(case.resolution),
        "rating": case.rating,
        "rating_comment": text(case.rating_comment),
        "photos": [
            {"id": p.pk, "stage": p.stage, "content_type": p.content_type, "width": p.width, "height": p.height,
             "sha256": p.sha256, "url": reverse("api_v1:case_photo", args=[case.number, p.pk])}
            for p in case.photos.all()
        ],
        "allowed_actions": allowed_moves(user, case) if user is not None else [],
        "mine": mine,
        "contact": contact,
    }


# --- request bodies: JSON or multipart ------------------------------------------------------------

def _reject_constant(name):
    raise ValueError(name)


def _body(request: HttpRequest, schema: type[Schema], *, photo_field: str = "photos"):
    """The body as ``schema`` and the uploaded photos: JSON, or a form (multipart or urlencoded)."""
    check_body_size(request)
    content_type = (request.content_type or "").lower()
    files = []
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken" and v != ""}
        for name in request.FILES:
            if name != photo_field:
                raise SchemaError([{"type": "extra_forbidden", "loc": (name,)}])
        files = request.FILES.getlist(photo_field)
    elif content_type in ("application/json", "") or content_type.endswith("+json"):
        try:
            # A body nested a thousand deep makes the parser recurse past Python's limit.
            data = json.loads(request.body or b"null", parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidInput(_("The body is not valid JSON."), code="bad_json")
        if not isinstance(data, dict):
            raise InvalidInput(_("The body must be a JSON object."), code="bad_json")
    else:
        raise InvalidInput(_("Send JSON or multipart/form-data."), code="unsupported_media_type")
    try:
        return schema.model_validate(data), files
    except pydantic.ValidationError as exc:
        raise SchemaError(exc.errors(include_url=False))


def _request_body(schema: type[Schema], *, with_photos: bool) -> dict:
    json_schema = schema.model_json_schema()
    json_schema.pop("title", None)
    form_schema = json.loads(json.dumps(json_schema))
    if with_photos:
        form_schema["properties"]["photos"] = {
            "type": "array", "maxItems": case_photos.MAX_PHOTOS,
            "items": {"type": "string", "format": "binary"},
            "description": "JPEG, PNG or WebP in an ordinary colour mode (not 16-bit or float greyscale), "
                           "at most 8 MB and 40 million pixels each, and pixels × bits per pixel at most "
                           "40 million × 24 (a 16-bit RGB PNG: 20 million pixels); stored re-encoded, at most "
                           "2048 px a side, without EXIF or other metadata. The whole body is at most 33 MB.",
        }
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": json_schema},
        "multipart/form-data": {"schema": form_schema},
    }}}


# --- intake ---------------------------------------------------------------------------------------

def _community_for_user(user, payload: CaseIn) -> tuple[Community, str, object]:
    """(community, channel, reporter) for a case raised by a signed-in account."""
    scope = scope_of(user)
    resident = getattr(user, "resident", None)
    staff_communities = set(scope.worker_communities) | set(scope.office_communities)
    if scope.grids:
        staff_communities |= set(Grid.objects.filter(pk__in=scope.grids).values_list("community_id", flat=True))
    channel = payload.channel
    if channel is None:
        if resident is not None:
            channel = Case.Channel.WEB
        elif staff_communities:
            raise InvalidInput(_("Say how the request came in: phone, walk-in or patrol."), code="channel_required",
                               field="channel")
        else:
            raise PermissionDenied(_("Only residents and community staff may raise cases here."))
    if channel == Case.Channel.WEB and resident is not None:
        candidates, reporter = {resident.community_id}, resident
    elif channel in STAFF_CHANNELS and staff_communities:
        candidates, reporter = staff_communities, None
    else:
        raise PermissionDenied(_("You may not enter cases through this channel."), code="channel")
    return _pick_community(payload.community, candidates), channel, reporter


def _pick_community(code: str | None, candidates: set[int]) -> Community:
    if code:
        community = Community.objects.filter(code=code, pk__in=candidates).select_related("street").first()
        if community is None:
            raise InvalidInput(_("Unknown community."), code="community", field="community")
        return community
    if len(candidates) != 1:
        raise InvalidInput(_("Choose the community."), code="community_required", field="community")
    return Community.objects.select_related("street").get(pk=next(iter(candidates)))


def _intake(request, payload: CaseIn, photos) -> tuple[services.Intake, tuple[str, str] | None, object]:
    client = _client(request)
    if client is not None:
        community = client.api_key.community
        if payload.community and payload.community != community.code:
            raise InvalidInput(_("Unknown community."), code="community", field="community")
        if payload.channel not in (None, Case.Channel.API):
            raise PermissionDenied(_("You may not enter cases through this channel."), code="channel")
        channel, reporter, actor, scope = Case.Channel.API, None, client, f"apikey:{client.api_key.pk}"
    else:
        user = request.auth
        community, channel, reporter = _community_for_user(user, payload)
        actor, scope = user, f"user:{user.pk}"

    category = None
    if payload.category:
        category = Category.objects.filter(community=community, code=payload.category, active=True).first()
        if category is None:
            raise InvalidInput(_("Unknown category."), code="category", field="category")
    grid = None
    if payload.grid:
        grid = Grid.objects.filter(community=community, code=payload.grid).first()
        if grid is None:
            raise InvalidInput(_("Unknown courtyard."), code="place", field="grid")
    has_point = payload.lat is not None or payload.lon is not None
    if payload.place == Case.Place.HOME and reporter is None:
        raise InvalidInput(_("“My home” is for a resident's own request: choose a courtyard or a point."),
                           code="place", field="place")
    if payload.place == Case.Place.POINT and not has_point:
        raise InvalidInput(_("Mark the point on the map."), code="place", field="lat")
    if payload.place == Case.Place.GRID and grid is None and not has_point:
        raise InvalidInput(_("Choose the courtyard."), code="place", field="grid")

    intake = services.Intake(
        community=community, channel=channel, description=payload.description, category=category,
        urgency=payload.urgency, reporter=reporter, contact_name=payload.contact_name,
        contact_phone=payload.contact_phone, anonymous=payload.anonymous, place=payload.place, grid=grid,
        latitude=payload.lat, longitude=payload.lon, address=payload.address, photos=photos,
    )
    return intake, scope, actor


def _idempotency(scope: str, key: str | None) -> tuple[str, str] | None:
    if key is None:
        return None
    key = key.strip()
    if not _IDEMPOTENCY_KEY_RE.match(key):
        raise InvalidInput(_("An Idempotency-Key is 1 to %(n)d printable characters without spaces.")
                           % {"n": IDEMPOTENCY_KEY_MAX}, code="idempotency_key", field="Idempotency-Key")
    return scope, key


def _reloaded(case: Case) -> Case:
    """The case after a write, read again by its id: found through the scope a moment
    ago, and shown once even when the move took it out of the actor's sight (a unit
    returning it)."""
    return Case.objects.select_related("community", "category", "grid", "unit", "master", "reporter").get(pk=case.pk)


@router.post(
    "/cases", url_name="case_create", summary="Raise a case",
    response={201: CaseOut, 200: CaseOut, **ERRORS},
    openapi_extra=_request_body(CaseIn, with_photos=True),
    description="201 with the new case. With an Idempotency-Key header, a retry of the same request "
                "returns 200 with the case the first one created; the same key with another body is a 409.",
)
def case_create(request, idempotency_key: Optional[str] = Header(None, alias="Idempotency-Key")):
    payload, files = _body(request, CaseIn)
    photos = case_photos.clean_images(files)
    intake, scope, actor = _intake(request, payload, photos)
    case, created = services.case_submit(actor=actor, intake=intake,
                                         idempotency=_idempotency(scope, idempotency_key))
    return Status(201 if created else 200, case_out(_reloaded(case), request))


@router.get("/cases/mine", url_name="cases_mine", summary="My cases", response={200: CasePageOut, **ERRORS})
def cases_mine(request, page: int = Query(1, ge=1, le=100_000),
               page_size: int = Query(20, ge=1, le=PAGE_SIZE_MAX),
               status: Optional[Literal[tuple(Case.Status.values)]] = Query(None)):  # type: ignore[valid-type]
    """The cases this account raised (as the reporter, or entered from it), newest first."""
    user = _require_user(request)
    scope = scope_of(user)
    mine = Q(submitted_by_id=user.pk)
    if scope.resident_id:
        mine |= Q(reporter_id=scope.resident_id)
    cases = cases_for(user).filter(mine)
    if status:
        cases = cases.filter(status=status)
    count = cases.count()
    items = (cases.select_related("community", "category", "grid", "unit", "master", "reporter")
             .prefetch_related("photos").order_by("-created_at", "-id")[(page - 1) * page_size: page * page_size])
    return {"count": count, "page": page, "page_size": page_size, "pages": (count + page_size - 1) // page_size,
            "items": [case_out(c, request) for c in items]}


@router.get("/cases/{number}", url_name="case_detail", summary="One case", response={200: CaseOut, **ERRORS})
def case_detail(request, number: str):
    return case_out(_case(request, number), request)


@router.get("/cases/{number}/photos/{photo_id}", url_name="case_photo", summary="One photo of a case",
         response={200: None, **ERRORS},
         openapi_extra={"responses": {"200": {"description": "The image",
                                              "content": {"image/jpeg": {}, "image/png": {}}}}})
def case_photo(request, number: str, photo_id: int):
    case = _case(request, number)
    user = _user(request)
    if user is not None and rules.case_view(user, case) == rules.SCRUBBED:
        raise NotFound(_("No such case."), code="not_found")  # the street reads aggregates, not photos
    return photo_response(case, photo_id)


# --- transitions ----------------------------------------------------------------------------------

def _unit(case: Case, unit_id: int | None, *, required: bool) -> Organisation | None:
    if unit_id is None:
        if required:
            raise InvalidInput(_("Choose the handling unit."), code="unit_required", field="unit")
        return None
    unit = Organisation.objects.filter(pk=unit_id, street_id=case.community.street_id).first()
    if unit is None:
        raise InvalidInput(_("This unit cannot handle cases of this community."), code="unit", field="unit")
    return unit


@router.post(
    "/cases/{number}/transitions", url_name="case_transition", summary="Move a case on",
    response={200: CaseOut, **ERRORS},
    openapi_extra=_request_body(TransitionIn, with_photos=True),
    description="accept (category, urgency), reject (reason), dispatch (unit), transfer (unit, reason), "
                "return (reason), contact, start, resolve (resolution; photos as multipart), "
                "rate and visit_back (rating, comment), merge (master). 409 when the case is not in a state "
                "for the action; 403 when this account may not take it.",
)
def case_transition(request, number: str):
    user = _require_user(request)
    case = _case(request, number)
    move, files = _body(request, TransitionIn)
    if files and move.action != "resolve":
        raise InvalidInput(_("Photos go with a result only."), code="photos", field="photos")
    a = move.action
    if a == "accept":
        category = None
        if move.category:
            category = Category.objects.filter(community_id=case.community_id, code=move.category,
                                               active=True).first()
            if category is None:
                raise InvalidInput(_("Unknown category."), code="category", field="category")
        services.case_accept(actor=user, case=case, category=category, urgency=move.urgency)
    elif a == "reject":
        services.case_reject(actor=user, case=case, reason=move.reason or "")
    elif a == "dispatch":
        services.case_dispatch(actor=user, case=case, unit=_unit(case, move.unit, required=False))
    elif a == "transfer":
        services.case_transfer(actor=user, case=case, unit=_unit(case, move.unit, required=True),
                               reason=move.reason or "")
    elif a == "return":
        services.case_return(actor=user, case=case, reason=move.reason or "")
    elif a == "contact":
        services.case_contact(actor=user, case=case)
    elif a == "start":
        services.case_start(actor=user, case=case)
    elif a == "resolve":
        services.case_resolve(actor=user, case=case, resolution=move.resolution or "",
                              photos=case_photos.clean_images(files))
    elif a in ("rate", "visit_back"):
        service = services.case_rate if a == "rate" else services.case_visit_back
        service(actor=user, case=case, rating=move.rating or "", comment=move.comment or "")
    elif a == "merge":
        master = _visible_cases(request).filter(community_id=case.community_id,
                                                number=(move.master or "").strip()).first()
        if master is None:
            raise InvalidInput(_("Choose another open case of this community."), code="master", field="master")
        services.case_merge(actor=user, case=case, master=master)
    elif a == "close_unresolved":
        services.case_close_unresolved(actor=user, case=case, kind=move.kind or "",
                                       explanation=move.explanation or "", rating=move.rating or "",
                                       comment=move.comment or "")
    return case_out(_reloaded(case), request)


# --- the three rates ------------------------------------------------------------------------------

_PERIOD_RE = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<quarter>[1-4])))?$")


def _period(value: str | None):
    """'2025', '2025-03' or '2025-Q1' → [start, end) in local time; None: all time."""
    if not value:
        return None, None
    match = _PERIOD_RE.match(value.strip())
    if not match or not 2000 <= int(match["year"]) <= 2999:
        raise InvalidInput(_("A period is a year (2025), a month (2025-03) or a quarter (2025-Q1)."),
                           code="period", field="period")
    year = int(match["year"])
    if match["month"]:
        return rates.period_range("month", dt.date(year, int(match["month"]), 1))
    if match["quarter"]:
        return rates.period_range("quarter", dt.date(year, 3 * int(match["quarter"]) - 2, 1))
    return rates.period_range("year", dt.date(year, 1, 1))


def _rate_row(row, group: str | None) -> dict:
    key = row.key.get(group) if group else None
    return {"key": key, "label": str(row.labels.get(group, "")) if group else _("all"),
            "counts": dict(row.counts), "rates": {name: row.rate(name) for name in rates.RATES}}


@router.get("/rates", url_name="rates", summary="The three rates", response={200: RatesOut, **ERRORS})
def three_rates(request, group: Literal["community", "grid", "unit", "category"] = Query("grid"),
                period: Optional[str] = Query(None, description="2025, 2025-03 or 2025-Q1; left out: all time")):
    """Response, resolution and satisfaction rates of the cases this account may see
    (a key: its community's), grouped, for cases submitted in the period."""
    client = _client(request)
    if client is None and not scope_of(request.auth).is_staff:
        raise PermissionDenied(_("The rates are for community staff."))
    start, end = _period(period)
    # The cases _visible_cases lists, summed from the rollup: a key reads its community's.
    cases = (rates.community_reach(client.api_key.community_id) if client is not None
             else rates.reach_of(request.auth))
    total = rates.three_rates(cases, start=start, end=end)[0]
    rows = rates.three_rates(cases, by=group, start=start, end=end)
    return {"group": group, "period": period, "start": _iso(start), "end": _iso(end),
            "total": _rate_row(total, None), "rows": [_rate_row(r, group) for r in rows]}
