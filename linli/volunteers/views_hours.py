"""Pages of service hours (docs/volunteers.md, "Service hours, approval and points").

- The organiser's QR page (``volunteers:qr``): shown on a phone at the site, a large QR code
  that changes every 30 s (``volunteers/qr.js`` fetches the next one from ``volunteers:qr_state``;
  without a script, a "Show the next code" link reloads the page), a check-in / check-out switch
  and the count of who is in.
- The volunteer's scan (``volunteers:scan``): the URL in the code opens it on the volunteer's own
  phone, signed in; it checks in or out and says so in big words, or says why not. The URL holds
  the activity's id, the purpose and the 60-second code, nothing personal. Opening it is the
  act (the camera opens a link; a second tap would let the code expire): the code is a secret
  shown only at the site for a minute, and a second scan only repeats the answer.
- The activity's hours (``volunteers:office_hours``): its records, the organiser's manual entry.
- Records to approve (``volunteers:office_records``): pending records of others, approve / reject
  with a reason (``volunteers:office_record_decide``).
- The resident's own records (``volunteers:my_records``), the services they received to rate
  (``volunteers:rate``) and their certificate (``volunteers:my_certificate``).
- The honour list (``volunteers:honour``, anyone) and the monthly summary
  (``volunteers:office_summary``: read, and publish on the public board).
"""

from __future__ import annotations

import datetime as dt

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from linli.community.models import Community
from linli.core.errors import LinliError
from linli.core.web import no_store

from . import certificate, hours, openness, qr
from .models import Activity, ServiceRecord, Volunteer
from .workflow_hours import OPEN, PENDING, approver_communities, may_approve_in, may_organise


def _refuse(request, error: LinliError, *, back: str | None = None):
    return render(request, "volunteers/records_refused.html", {
        "message": error.message, "code": error.code, "back": back or request.path}, status=error.status)


def _community(code) -> Community:
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise Http404
    return community


def _organised_activity(request, code, pk) -> Activity:
    """The activity, if the account organises it (404 otherwise: its existence is not told)."""
    activity = (Activity.objects.select_related("community", "grid")
                .filter(pk=pk, community__code=code).first())
    if activity is None or not may_organise(request.user, activity):
        raise Http404
    return activity


def _qr_svg(activity, purpose: str, request) -> str:
    code = qr.code_for(activity, purpose=purpose)
    url = request.build_absolute_uri(reverse("volunteers:scan", args=[activity.pk, purpose, code]))
    return segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#000", light="#fff",
                                                 title=_("Scan to check in") if purpose == "in" else
                                                 _("Scan to check out"))


def _qr_context(activity, purpose, request) -> dict:
    return {
        "svg": _qr_svg(activity, purpose, request),
        "checked_in": ServiceRecord.objects.filter(activity=activity, status=OPEN).count(),
        "seconds": qr.seconds_left(),
    }


@require_safe
@login_required
@no_store
def qr_page(request, code, pk):
    activity = _organised_activity(request, code, pk)
    purpose = "out" if request.GET.get("purpose") == "out" else "in"
    context = _qr_context(activity, purpose, request)
    context.update({"activity": activity, "purpose": purpose,
                    "state_url": reverse("volunteers:qr_state", args=[code, pk]) + f"?purpose={purpose}"})
    return render(request, "volunteers/qr.html", context)


@require_safe
@login_required
@no_store
def qr_state(request, code, pk):
    activity = _organised_activity(request, code, pk)
    purpose = "out" if request.GET.get("purpose") == "out" else "in"
    return JsonResponse(_qr_context(activity, purpose, request))


@require_safe
@login_required
@no_store
def scan(request, pk, purpose, code):
    """Check in or out with a scanned code, on the volunteer's own phone."""
    activity = Activity.objects.select_related("community").filter(pk=pk).first()
    volunteer = (Volunteer.objects.select_related("resident")
                 .filter(resident__user=request.user).first())
    context = {"activity": activity, "purpose": purpose}
    status = 200
    if activity is None or purpose not in qr.PURPOSES:
        context["error"] = _("This code does not belong to this activity's check-in or check-out. "
                             "Scan the code the organiser is showing now.")
        status = 404
    elif volunteer is None or volunteer.community_id != activity.community_id:
        context["error"] = _("You are not a volunteer of this activity's community.")
        status = 403
    else:
        try:
            if purpose == "in":
                record = hours.check_in(actor=request.user, activity=activity, volunteer=volunteer, code=code)
                context["done_at"] = record.check_in_at
            else:
                record = hours.check_out(actor=request.user, activity=activity, volunteer=volunteer, code=code)
                context["done_at"] = record.check_out_at
                context["minutes"] = record.minutes
        except LinliError as error:
            context["error"] = error.message
            status = error.status
    return render(request, "volunteers/scan.html", context, status=status)


def _local(value: str, field: str):
    parsed = parse_datetime((value or "").strip().replace(" ", "T")) if value else None
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@require_http_methods(["GET", "POST"])
@login_required
@no_store
def office_hours(request, code, pk):
    """The activity's records and the organiser's manual entry."""
    activity = _organised_activity(request, code, pk)
    back = reverse("volunteers:office_hours", args=[code, pk])
    if request.method == "POST":
        volunteer = Volunteer.objects.filter(pk=request.POST.get("volunteer") or 0,
                                             community=activity.community).first()
        if volunteer is None:
            raise Http404
        try:
            hours.mark(actor=request.user, activity=activity, volunteer=volunteer,
                       check_in_at=_local(request.POST.get("check_in_at"), "check_in_at"),
                       check_out_at=_local(request.POST.get("check_out_at"), "check_out_at"))
        except LinliError as error:
            return _refuse(request, error, back=back)
        messages.success(request, _("The hours are entered and wait for approval."))
        return redirect(back)
    records = list(activity.records.select_related("volunteer__resident", "rating").order_by("check_in_at", "id"))
    recorded = {r.volunteer_id for r in records}
    signed = [s.volunteer for s in activity.signups.filter(status="confirmed").select_related("volunteer__resident")]
    for record in records:
        record.shown_name = record.volunteer.resident.name.masked
        rating = getattr(record, "rating", None)  # None: not rated (the reverse one-to-one raises)
        record.shown_rating = (rating.stars, hours.shown_comment(rating)) if rating is not None else None
    for volunteer in signed:
        volunteer.shown_name = volunteer.resident.name.masked
    return render(request, "volunteers/records_activity.html", {
        "activity": activity, "records": records,
        "to_mark": [v for v in signed if v.pk not in recorded]
        + [r.volunteer for r in records if r.status == OPEN],
        "default_in": timezone.localtime(activity.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "default_out": timezone.localtime(activity.ends_at).strftime("%Y-%m-%dT%H:%M"),
    })


@require_safe
@login_required
@no_store
def office_records(request, code):
    community = _community(code)
    if community.pk not in approver_communities(request.user) and not _grid_worker_of(request.user, community):
        raise Http404
    pending = list(hours.pending_for(request.user).filter(activity__community=community)[:200])
    for record in pending:
        record.shown_name = record.volunteer.resident.name.masked
    return render(request, "volunteers/records_office.html", {"community": community, "records": pending})


def _grid_worker_of(user, community) -> bool:
    from linli.community.scope import scope_of

    return bool(scope_of(user).roles.get(community.pk, set()) & {"grid_worker"})


@require_POST
@login_required
@no_store
def office_record_decide(request, code, pk):
    community = _community(code)
    record = (ServiceRecord.objects.select_related("activity", "volunteer__resident")
              .filter(pk=pk, activity__community=community).first())
    back = reverse("volunteers:office_records", args=[code])
    if record is None or not may_approve_in(request.user, record.activity):
        raise Http404
    try:
        if request.POST.get("decision") == "approve":
            record = hours.approve(actor=request.user, record=record)
            if record.points:
                messages.success(request, _("Approved: %(points)s points granted.") % {"points": record.points})
            else:
                messages.success(request, _("Approved. No points were granted: the volunteer reached the cap."))
        else:
            hours.reject(actor=request.user, record=record, reason=request.POST.get("reason", ""))
            messages.success(request, _("The hours are rejected; the volunteer sees why."))
    except LinliError as error:
        return _refuse(request, error, back=back)
    return redirect(back)


@require_safe
@login_required
@no_store
def my_records(request):
    volunteer = Volunteer.objects.filter(resident__user=request.user).select_related("resident").first()
    records = list(hours.records_of(volunteer)[:200]) if volunteer else []
    approved = [r for r in records if r.status == "approved"]
    resident = getattr(request.user, "resident", None)
    received = []
    if resident is not None:
        received = list(ServiceRecord.objects.filter(
            activity__need__household_id=resident.household_id, status__in=(PENDING, "approved"),
            rating__isnull=True).select_related("activity").order_by("-check_in_at")[:50])
    years = sorted({timezone.localtime(r.check_in_at).year for r in approved}, reverse=True)
    return render(request, "volunteers/records_mine.html", {
        "volunteer": volunteer, "records": records, "received": received, "years": years,
        "total_hours": round(sum(r.minutes or 0 for r in approved) / 60, 1),
        "total_points": sum(r.points or 0 for r in approved),
    })


@require_http_methods(["GET", "POST"])
@login_required
@no_store
def rate(request, pk):
    record = ServiceRecord.objects.select_related("activity", "activity__need").filter(pk=pk).first()
    if record is None or not hours.may_rate(request.user, record):
        raise Http404
    back = reverse("volunteers:my_records")
    if request.method == "POST":
        try:
            hours.rate(actor=request.user, record=record, stars=request.POST.get("stars"),
                       comment=request.POST.get("comment", ""))
        except LinliError as error:
            return _refuse(request, error, back=reverse("volunteers:rate", args=[pk]))
        messages.success(request, _("Thank you: your rating is saved."))
        return redirect(back)
    return render(request, "volunteers/records_rate.html", {"record": record, "stars": range(5, 0, -1)})


@require_safe
@login_required
@no_store
def my_certificate(request):
    volunteer = Volunteer.objects.filter(resident__user=request.user).select_related("resident").first()
    if volunteer is None:
        raise Http404
    year = request.GET.get("year")
    year = int(year) if year and year.isdigit() else None
    pdf = certificate.certificate_pdf(volunteer, year=year)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"certificate-{year}.pdf" if year else "certificate.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_safe
def honour(request, code):
    community = _community(code)
    year = request.GET.get("year")
    year = int(year) if year and year.isdigit() else timezone.localdate().year
    return render(request, "volunteers/honour.html", {
        "community": community, "year": year, "rows": openness.honour_list(community, year=year)})


def _month(request) -> tuple[int, int]:
    today = timezone.localdate()
    first = today.replace(day=1) - dt.timedelta(days=1)  # last month by default
    try:
        year = int(request.POST.get("year") or request.GET.get("year") or first.year)
        month = int(request.POST.get("month") or request.GET.get("month") or first.month)
    except ValueError:
        year, month = first.year, first.month
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        year, month = first.year, first.month
    return year, month


@require_http_methods(["GET", "POST"])
@login_required
@no_store
def office_summary(request, code):
    community = _community(code)
    if not openness.may_read_summary(request.user, community):
        raise Http404
    year, month = _month(request)
    back = reverse("volunteers:office_summary", args=[code]) + f"?year={year}&month={month}"
    if request.method == "POST":
        try:
            openness.publish_summary(actor=request.user, community=community, year=year, month=month)
        except LinliError as error:
            return _refuse(request, error, back=back)
        messages.success(request, _("The summary is published on the public board."))
        return redirect(back)
    return render(request, "volunteers/honour_summary.html", {
        "community": community, "year": year, "month": month,
        "summary": openness.monthly_summary(community, year, month),
        "may_publish": openness.may_publish(request.user, community)})
