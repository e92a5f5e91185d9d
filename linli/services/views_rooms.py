"""The rooms' office pages (docs/services.md, "Rooms").

- ``services:office_rooms`` (``<code>/office/rooms/?week=YYYY-MM-DD``): the week grid of the
  service centre's rooms (days across, rooms down; each booking with its time, purpose and
  state), the requests waiting for approval (approve / decline with a reason, the office only),
  the account's own requests (cancel), and the rooms with their opening hours.
- ``services:office_room_request`` (``<code>/office/rooms/request/``): ask for a room.
- ``services:office_room`` (``<code>/office/rooms/new`` and ``<code>/office/rooms/<pk>/``): a
  room's settings and opening hours (the office).

Who: the office (everything), the party secretary, building leaders and partner organisations'
staff (the grid, their own requests). A refusal is shown in words with its status; nothing changes.
"""

from __future__ import annotations

import datetime as dt

import rules as django_rules
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.community.models import Community, Organisation
from linli.community.scope import scope_of
from linli.core.errors import LinliError
from linli.core.masking import scrub
from linli.core.web import staff_page

from . import rooms as svc
from .forms_rooms import DeclineForm, RoomForm, RoomRequestForm
from .models import Room, RoomBooking

PERM = "services.use_rooms"


@django_rules.predicate
def requests_rooms_anywhere(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return any(roles & svc.REQUESTER_ROLES for roles in scope_of(user).roles.values())


django_rules.add_perm(PERM, requests_rooms_anywhere)


def _community(request, code) -> Community:
    community = Community.objects.filter(code=code).first()
    if community is None or not svc.may_request(request.user, community):
        raise Http404
    return community


def _monday(request) -> dt.date:
    day = parse_date(request.GET.get("week") or "") if request.GET.get("week") else None
    day = day or timezone.localdate()
    return day - dt.timedelta(days=day.weekday())


def _organisations(user, community):
    qs = Organisation.objects.filter(community=community).order_by("name", "id")
    if svc.is_office(user, community):
        return qs
    return qs.filter(pk__in=scope_of(user).organisations)


def _grid_rows(grid, user, office):
    """The week grid with each booking's words: purpose scrubbed; whose it is."""
    for row in grid["rows"]:
        row["cells"] = [[{"b": b, "purpose": scrub(b.purpose), "mine": b.requested_by_id == user.pk,
                          "org": b.organisation.name if b.organisation else ""} for b in cell]
                        for cell in row["cells"]]
    return grid["rows"]


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(PERM)
def office_rooms(request, code):
    community = _community(request, code)
    office = svc.is_office(request.user, community)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        booking = RoomBooking.objects.filter(pk=request.POST.get("booking") or 0,
                                             room__community=community).select_related("room__community").first()
        if booking is None or action not in ("approve", "decline", "cancel"):
            raise Http404
        try:
            if action == "approve":
                svc.approve(actor=request.user, booking=booking)
                messages.success(request, _("The booking is approved; the requester is told."))
            elif action == "decline":
                form = DeclineForm(request.POST)
                svc.decline(actor=request.user, booking=booking,
                            reason=form.cleaned_data["reason"] if form.is_valid() else "")
                messages.success(request, _("The request is declined; the requester is told why."))
            else:
                svc.cancel(actor=request.user, booking=booking)
                messages.success(request, _("The booking is cancelled; the room is free again."))
            return redirect(request.get_full_path())
        except LinliError as exc:
            messages.error(request, exc.message)
            status = exc.status
    monday = _monday(request)
    grid = svc.week_grid(community, monday)
    pending = (RoomBooking.objects.filter(room__community=community, status=RoomBooking.Status.REQUESTED,
                                          ends_at__gt=timezone.now())
               .select_related("room", "organisation").order_by("starts_at", "id"))
    mine = (RoomBooking.objects.filter(room__community=community, requested_by=request.user,
                                       ends_at__gt=timezone.now() - dt.timedelta(days=30))
            .select_related("room").order_by("-starts_at", "-id")[:50])
    all_rooms = list(Room.objects.filter(community=community).order_by("-active", "name", "id"))
    for room in all_rooms:
        room.opening_rows = [(svc.DAY_LABELS[d], " ".join(f"{a}–{b}" for a, b in room.opening.get(d, [])))
                             for d in svc.DAYS]
    return render(request, "services/rooms_office.html", {
        "community": community, "office": office, "monday": monday, "days": grid["days"],
        "rows": _grid_rows(grid, request.user, office),
        "prev_week": (monday - dt.timedelta(days=7)).isoformat(), "next_week": (monday + dt.timedelta(days=7)).isoformat(),
        "pending": [{"b": b, "purpose": scrub(b.purpose)} for b in pending] if office else [],
        "mine": list(mine), "rooms": all_rooms, "decline_form": DeclineForm(),
    }, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(PERM)
def office_room_request(request, code):
    community = _community(request, code)
    room_qs = Room.objects.filter(community=community, active=True).order_by("name", "id")
    organisations = _organisations(request.user, community)
    status = 200
    if request.method == "POST":
        form = RoomRequestForm(request.POST, rooms=room_qs, organisations=organisations)
        if form.is_valid():
            data = form.cleaned_data
            try:
                booking = svc.request(actor=request.user, room=data["room"], starts_at=data["starts_at"],
                                      ends_at=data["ends_at"], purpose=data["purpose"], attendees=data["attendees"],
                                      organisation=data["organisation"])
            except LinliError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
                status = exc.status
            else:
                messages.success(request, _("The room is booked.") if booking.status == RoomBooking.Status.APPROVED
                                 else _("Your request is sent; the office decides and you are told."))
                week = timezone.localdate(booking.starts_at)
                return redirect(reverse("services:office_rooms", args=[community.code])
                                + f"?week={(week - dt.timedelta(days=week.weekday())).isoformat()}")
        else:
            status = 400
    else:
        initial = {}
        if (request.GET.get("room") or "").isdigit():
            initial["room"] = int(request.GET["room"])
        form = RoomRequestForm(initial=initial, rooms=room_qs, organisations=organisations)
    return render(request, "services/room_request.html", {"community": community, "form": form,
                                                          "rooms": list(room_qs)}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(PERM)
def office_room(request, code, pk=None):
    community = _community(request, code)
    if not svc.is_office(request.user, community):
        raise Http404
    room = None
    if pk is not None:
        room = Room.objects.filter(community=community, pk=pk).first()
        if room is None:
            raise Http404
    status = 200
    if request.method == "POST":
        form = RoomForm(request.POST)
        if room is not None:
            form.fields["code"].required = False
        if form.is_valid():
            data = form.cleaned_data
            try:
                opening = svc.parse_opening_text(data["opening"])
                if room is None:
                    room = svc.room_create(actor=request.user, community=community, code=data["code"],
                                           name=data["name"], capacity=data["capacity"], opening=opening,
                                           needs_approval=data["needs_approval"], description=data["description"],
                                           floor_area=data["floor_area"])
                else:
                    svc.room_update(actor=request.user, room=room, name=data["name"], capacity=data["capacity"],
                                    opening=opening, needs_approval=data["needs_approval"],
                                    description=data["description"], floor_area=data["floor_area"],
                                    active=data["active"])
            except LinliError as exc:
                if pk is None:
                    room = None
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
                status = exc.status
            else:
                messages.success(request, _("The room is saved."))
                return redirect("services:office_rooms", code=community.code)
        else:
            status = 400
    elif room is not None:
        form = RoomForm(initial={"code": room.code, "name": room.name, "capacity": room.capacity,
                                 "floor_area": room.floor_area, "description": room.description,
                                 "opening": svc.opening_text(room.opening), "needs_approval": room.needs_approval,
                                 "active": room.active})
        form.fields["code"].disabled = True
    else:
        form = RoomForm(initial={"opening": svc.opening_text(svc.DEFAULT_OPENING)})
    return render(request, "services/room_edit.html", {"community": community, "form": form, "room": room},
                  status=status)

