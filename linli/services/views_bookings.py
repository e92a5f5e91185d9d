"""Pages of the bookable services (docs/services.md, "Pages").

Residents (phone-sized, large text, one big button per action, no script): the services of their
community with the next free times (``services:index``), one service's times for four weeks
(``services:service``), the confirm page that books or joins the waiting list (``services:book``),
their bookings (``services:mine``) and the cancel page that says before confirming whether it
counts as a no-show (``services:cancel``).

The office and the providers' staff, under ``<code>/office/``: the index (``services:office``:
providers, services, today's times), one service (``services:office_service``: its times, make a
series, cancel a time), one time's list (``services:office_slot``: masked names, priority,
attended / no-show buttons, book for a resident by phone or at the desk) and the dashboard
(``services:office_dashboard``: counts only). A refusal is shown in words with the error's
status; nothing changes.
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.community.models import Community, Organisation
from linli.community.selectors import resident_search
from linli.core.errors import LinliError
from linli.core.masking import scrub
from linli.core.web import no_store, staff_page
from linli.points import tokens

from . import bookings, catalogue, priority, rules
from .forms_bookings import BookForForm, ProviderForm, ServiceForm, SlotCancelForm, SlotSeriesForm
from .models import Booking, Provider, Service, Slot

B = Booking.Status
WEEKS = 4


def _local_day(moment) -> dt.date:
    return timezone.localtime(moment).date()


# --- residents -----------------------------------------------------------------------------------


def _resident_or_page(request):
    resident = rules.resident_of(request.user)
    if resident is None:
        return None, render(request, "services/index.html", {"resident": None, "rows": []})
    return resident, None


@require_http_methods(["GET", "HEAD"])
@login_required
@no_store
def index(request):
    resident, page = _resident_or_page(request)
    if page is not None:
        return page
    now = timezone.now()
    rows = []
    for service in Service.objects.filter(community_id=resident.community_id, active=True,
                                          provider__active=True).select_related("provider"):
        has_priority = priority.matches(service, resident)
        free = [s for s in catalogue.upcoming_slots(service, at=now)[:60]
                if bookings.places_left(s, priority=has_priority, at=now) > 0][:3]
        rows.append({"service": service, "next": free})
    mine = Booking.objects.filter(resident=resident, status__in=Booking.OPEN, slot__ends_at__gt=now).count()
    return render(request, "services/index.html", {"resident": resident, "rows": rows, "mine_count": mine})


def _service_of(resident, code) -> Service:
    service = Service.objects.filter(community_id=resident.community_id, code=code, active=True).select_related(
        "provider").first()
    if service is None:
        raise Http404
    return service


@require_http_methods(["GET", "HEAD"])
@login_required
@no_store
def service_detail(request, service_code):
    resident = rules.resident_of(request.user)
    if resident is None:
        raise Http404
    service = _service_of(resident, service_code)
    now = timezone.now()
    has_priority = priority.matches(service, resident)
    mine = dict(Booking.objects.filter(resident=resident, slot__service=service, status__in=Booking.OPEN)
                .values_list("slot_id", "status"))
    slots = [{"slot": s, "left": bookings.places_left(s, priority=has_priority, at=now), "mine": mine.get(s.pk)}
             for s in catalogue.upcoming_slots(service, at=now, days=7 * WEEKS)]
    days = [(day, list(rows)) for day, rows in groupby(slots, key=lambda r: _local_day(r["slot"].starts_at))]
    return render(request, "services/service.html", {"service": service, "days": days, "priority": has_priority})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@no_store
def book(request, pk):
    resident = rules.resident_of(request.user)
    slot = Slot.objects.filter(pk=pk).select_related("service__provider").first()
    if resident is None or slot is None or slot.service.community_id != resident.community_id:
        raise Http404
    error, status = None, 200
    if request.method == "POST":
        try:
            booking, _created = bookings.book(actor=request.user, slot=slot, resident=resident,
                                              channel=Booking.Channel.ONLINE, note=request.POST.get("note", ""))
            if booking.status == B.BOOKED:
                messages.success(request, _("You are booked. You will be reminded the day before."))
            else:
                messages.success(request, _("You are on the waiting list. You will be told if a place comes free."))
            return redirect("services:mine")
        except LinliError as exc:
            error, status = exc.message, exc.status
            slot.refresh_from_db()
    now = timezone.now()
    has_priority = priority.matches(slot.service, resident)
    return render(request, "services/booking_confirm.html", {
        "slot": slot, "service": slot.service, "error": error,
        "left": bookings.places_left(slot, priority=has_priority, at=now),
        "open": slot.status == Slot.Status.OPEN and slot.starts_at > now,
        "late_from": slot.starts_at - dt.timedelta(hours=slot.service.cancel_hours),
    }, status=status)


@require_http_methods(["GET", "HEAD"])
@login_required
@no_store
def mine(request):
    resident = rules.resident_of(request.user)
    if resident is None:
        return render(request, "services/mine.html", {"resident": None})
    now = timezone.now()
    rows = list(Booking.objects.filter(resident=resident).select_related("slot__service")
                .order_by("slot__starts_at", "id"))
    upcoming = [b for b in rows if b.status in Booking.OPEN and b.slot.ends_at > now]
    past = [b for b in rows if b not in upcoming][::-1][:50]
    positions = {}
    for b in upcoming:
        if b.status == B.WAITING:
            positions[b.pk] = bookings.waiting_list(b.slot).filter(
                Q(priority__gt=b.priority) | Q(priority=b.priority, created_at__lte=b.created_at)).count()
    return render(request, "services/mine.html", {
        "resident": resident, "upcoming": [(b, positions.get(b.pk), b.slot.starts_at > now) for b in upcoming],
        "past": past})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@no_store
def cancel(request, pk):
    resident = rules.resident_of(request.user)
    booking = Booking.objects.filter(pk=pk).select_related("slot__service").first()
    if resident is None or booking is None or booking.resident_id != resident.pk:
        raise Http404
    error, status = None, 200
    if request.method == "POST":
        try:
            row = bookings.cancel(actor=request.user, booking=booking)
            messages.success(request, _("Your booking is cancelled. It counts as a no-show.")
                             if row.status == B.LATE_CANCELLED else _("Your booking is cancelled."))
            return redirect("services:mine")
        except LinliError as exc:
            error, status = exc.message, exc.status
    return render(request, "services/booking_cancel.html", {
        "booking": booking, "service": booking.slot.service, "error": error,
        "late": bookings.is_late(booking),
        "open": booking.status in Booking.OPEN and booking.slot.starts_at > timezone.now(),
    }, status=status)


# --- the office and the providers' staff ---------------------------------------------------------


def _community(request, code) -> Community:
    community = Community.objects.filter(code=code).first()
    if community is None or not rules.may_use_office(request.user, community):
        raise Http404
    return community


def _fail(request, exc: LinliError):
    messages.error(request, exc.message)


@require_http_methods(["GET", "HEAD"])
@staff_page(rules.OFFICE_PERM)
def office_index(request):
    communities = rules.office_communities(request.user)
    if len(communities) == 1:
        return redirect("services:office", code=communities[0].code)
    return render(request, "services/office_index.html", {"communities": communities})


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(rules.OFFICE_PERM)
def office(request, code):
    community = _community(request, code)
    is_office = rules.may_manage(request.user, community)
    providers = rules.staff_providers(request.user, community)
    organisations = Organisation.objects.filter(Q(community=community) | Q(community__isnull=True,
                                                                          street_id=community.street_id))
    provider_form = ProviderForm(organisations=organisations, prefix="p")
    service_form = ServiceForm(providers=Provider.objects.filter(community=community, active=True), prefix="s")
    if request.method == "POST":
        if not is_office:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "provider":
                provider_form = ProviderForm(request.POST, organisations=organisations, prefix="p")
                if provider_form.is_valid():
                    catalogue.provider_create(actor=request.user, community=community, **provider_form.cleaned_data)
                    messages.success(request, _("The provider is added."))
                    return redirect(request.path)
            elif action == "service":
                service_form = ServiceForm(request.POST, providers=Provider.objects.filter(community=community,
                                                                                         active=True), prefix="s")
                if service_form.is_valid():
                    service = catalogue.service_create(actor=request.user, community=community,
                                                       **service_form.cleaned_data)
                    messages.success(request, _("The service is added: now open its times."))
                    return redirect("services:office_service", code=code, pk=service.pk)
            else:
                raise Http404
        except LinliError as exc:
            _fail(request, exc)
    services = Service.objects.filter(provider__in=providers).select_related("provider").order_by("name", "id")
    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    todays = (Slot.objects.filter(service__in=services, starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=1))
              .select_related("service").annotate(waiting=Count("bookings", filter=Q(bookings__status=B.WAITING)))
              .order_by("starts_at", "id"))
    return render(request, "services/office.html", {
        "community": community, "is_office": is_office, "providers": providers, "services": services,
        "todays": todays, "provider_form": provider_form, "service_form": service_form,
        "counts": rules.may_read_counts(request.user, community), **rules.office_nav(request.user, community)})


def _office_service(request, code, pk):
    community = _community(request, code)
    service = Service.objects.filter(pk=pk, community=community).select_related("provider").first()
    if service is None or not rules.may_run_service(request.user, service):
        raise Http404
    return community, service


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(rules.OFFICE_PERM)
def office_service(request, code, pk):
    community, service = _office_service(request, code, pk)
    form = SlotSeriesForm(initial={"day": timezone.localdate() + dt.timedelta(days=1),
                                   "start": dt.time(9, 0), "end": dt.time(11, 0)})
    cancel_form = SlotCancelForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "series":
                form = SlotSeriesForm(request.POST)
                if form.is_valid():
                    made = catalogue.slots_create(actor=request.user, service=service, **form.cleaned_data)
                    messages.success(request, _("%(n)d times are open for booking.") % {"n": len(made)})
                    return redirect(request.path)
            elif action == "cancel":
                cancel_form = SlotCancelForm(request.POST)
                slot = Slot.objects.filter(pk=request.POST.get("slot"), service=service).first()
                if slot is None:
                    raise Http404
                if cancel_form.is_valid():
                    catalogue.slot_cancel(actor=request.user, slot=slot, reason=cancel_form.cleaned_data["reason"])
                    messages.success(request, _("The time is cancelled; the residents booked are told."))
                    return redirect(request.path)
            else:
                raise Http404
        except LinliError as exc:
            _fail(request, exc)
    now = timezone.now()
    slots = (Slot.objects.filter(service=service, ends_at__gt=now - dt.timedelta(days=1))
             .annotate(waiting=Count("bookings", filter=Q(bookings__status=B.WAITING))).order_by("starts_at", "id")[:200])
    return render(request, "services/office_service.html", {
        "community": community, "service": service, "slots": slots, "form": form, "cancel_form": cancel_form,
        "now": now})


def _resident_for_booking(request, community, form_data):
    """The resident staff book for: by the QR code on their card, or a row found by the search."""
    code = (form_data.get("qr") or "").strip()
    if code:
        return tokens.resident_from_token(community, code)
    resident_id = form_data.get("resident")
    if not resident_id:
        return None
    return community.residents.filter(pk=resident_id).first()


@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(rules.OFFICE_PERM)
def office_slot(request, code, pk):
    community = _community(request, code)
    slot = Slot.objects.filter(pk=pk, service__community=community).select_related("service__provider").first()
    if slot is None or not rules.may_run_service(request.user, slot.service):
        raise Http404
    # The search is POSTed: a name or mobile number never travels in a URL (nor in the logs).
    finding = request.method == "POST" and request.POST.get("action") == "find"
    if request.method == "POST" and not finding:
        action = request.POST.get("action")
        try:
            if action in ("attended", "no_show"):
                booking = Booking.objects.filter(pk=request.POST.get("booking"), slot=slot).first()
                if booking is None:
                    raise Http404
                bookings.mark(actor=request.user, booking=booking, attended=action == "attended")
                return redirect(request.path + f"#b{booking.pk}")
            if action == "cancel":
                booking = Booking.objects.filter(pk=request.POST.get("booking"), slot=slot).first()
                if booking is None:
                    raise Http404
                bookings.cancel(actor=request.user, booking=booking)
                messages.success(request, _("The booking is cancelled; the resident is told."))
                return redirect(request.path)
            if action == "book":
                resident = _resident_for_booking(request, community, request.POST)
                if resident is None:
                    raise Http404
                channel = request.POST.get("channel")
                if channel not in (Booking.Channel.PHONE, Booking.Channel.WALK_IN):
                    channel = Booking.Channel.PHONE
                booking, _created = bookings.book(actor=request.user, slot=slot, resident=resident, channel=channel,
                                                  note=request.POST.get("note", ""))
                messages.success(request, _("Booked.") if booking.status == B.BOOKED
                                 else _("The time is full: the resident is on the waiting list."))
                return redirect(request.path)
            raise Http404
        except LinliError as exc:
            _fail(request, exc)
            slot.refresh_from_db()
    rows = list(Booking.objects.filter(slot=slot).exclude(status=B.CANCELLED).select_related("resident")
                .order_by("-priority", "created_at", "id"))
    rows.sort(key=lambda b: b.status == B.WAITING)  # the day's list first, then the waiting list
    found, query = [], (request.POST.get("q", "").strip() if finding else "")
    if query and rules.is_office(request.user, community):
        found = [{"id": r.pk, "name": r.name.masked, "grid": r.grid.name}
                 for r in resident_search(request.user, query=query).filter(community=community)[:10]]
    now = timezone.now()
    return render(request, "services/office_slot.html", {
        "community": community, "slot": slot, "service": slot.service,
        # The note is free text (the office's or the resident's words) shown to the provider too:
        # numbers, doors and the resident's name masked.
        "rows": [{"booking": b, "name": b.resident.name.masked,
                  "note": scrub(b.note, names=(b.resident.name.reveal(),), doors=True) if b.note else ""}
                 for b in rows],
        "may_mark": slot.starts_at <= now, "open": slot.status == Slot.Status.OPEN and slot.starts_at > now,
        "query": query, "found": found, "is_office": rules.is_office(request.user, community),
        "book_form": BookForForm()})


def dashboard_rows(community, *, providers=None, now=None, days=30) -> list[dict]:
    """Per service, the last ``days`` days: places offered (slots that started, not cancelled), attended,
    no-shows (late cancellations included), bookings used = attended / places offered (percent), and
    the waiting list now (future times). Counts only."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    services = Service.objects.filter(community=community)
    if providers is not None:
        services = services.filter(provider__in=providers)
    rows = []
    for service in services.order_by("name", "id"):
        slots = Slot.objects.filter(service=service, status=Slot.Status.OPEN, starts_at__gte=since, starts_at__lt=now)
        offered = slots.aggregate(n=Sum("capacity"))["n"] or 0
        counts = Booking.objects.filter(slot__in=slots).aggregate(
            attended=Count("pk", filter=Q(status=B.ATTENDED)),
            no_show=Count("pk", filter=Q(status__in=(B.NO_SHOW, B.LATE_CANCELLED))))
        waiting = Booking.objects.filter(slot__service=service, status=B.WAITING, slot__starts_at__gt=now).count()
        used = round(100 * counts["attended"] / offered) if offered else 0
        rows.append({"service": service, "offered": offered, "attended": counts["attended"],
                     "no_show": counts["no_show"], "waiting": waiting, "used": used})
    return rows


@require_http_methods(["GET", "HEAD"])
@staff_page(rules.OFFICE_PERM)
def office_dashboard(request, code):
    community = _community(request, code)
    if rules.may_read_counts(request.user, community) and (
            rules.is_office(request.user, community) or not rules.staff_providers(request.user, community).exists()):
        providers = None
    else:
        providers = rules.staff_providers(request.user, community)
    rows = dashboard_rows(community, providers=providers)
    bar_height = 28
    for i, row in enumerate(rows):
        row["y"] = i * bar_height
        row["width"] = min(row["used"], 100) * 3
    return render(request, "services/office_dashboard.html", {
        "community": community, "rows": rows, "chart_height": max(len(rows), 1) * bar_height,
        "bar_height": bar_height - 6, **rules.office_nav(request.user, community)})

