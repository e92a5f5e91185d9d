"""The board's back office, under ``/disclosure/<code>/office/`` (docs/disclosure.md).

Pages: the list by state (``office``), a new draft (``office_new``), an entry with the moves
the account may make (``office_entry``), editing a draft or held entry (``office_edit``), the
moves themselves (``office_move``: submit, return, publish, withdraw), starting a correction
(``office_correct``), a draft's attachment (``office_attachment``), the duties
(``office_duties``, ``office_duty_new``, ``office_duty``) and the generated drafts
(``office_generate``). Each view parses, authorises (linli.disclosure.rules), calls one service
and redirects; a service's refusal is shown and nothing changes.

Office staff of the community (admin, worker, party secretary) use it; the street's supervisor
reads it. Anyone else: 404 for a community they do not work in, 403 with no office at all.
"""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from linli.community.models import Community
from linli.community.selectors import office_index_communities
from linli.core.errors import LinliError
from linli.core.masking import scrub
from linli.core.web import staff_page

from . import attachments, duties, pii, rules, selectors, services
from .forms import DutyForm, EntryForm, GenerateForm, NoteForm, WithdrawForm
from .models import Duty, Entry, Section
from .workflow import ENTRY

PERM = "disclosure.use_office"
E = Entry.State


def _community(request, code: str) -> Community:
    community = Community.objects.select_related("street").filter(code=code).first()
    if community is None or not rules.may_use_office(request.user, community):
        raise Http404
    return community


def _entry(community, pk: int) -> Entry:
    entry = selectors.entry_for_office(community, pk)
    if entry is None:
        raise Http404
    return entry


def _error(form, exc: LinliError) -> None:
    field = exc.field if exc.field in form.fields else None
    if exc.field == "attachments" and "files" in form.fields:
        field = "files"
    form.add_error(field, django_forms.ValidationError(str(exc.message)))


def _sections(user, community) -> list[str]:
    return [s for s in Section.values if rules.may_author(user, community.pk, s)]


@staff_page(PERM)
def index(request):
    """``/disclosure/office/``: the menu's link; straight to the one community, else a choice."""
    communities = office_index_communities(request.user, rules.office_communities(request.user))
    if len(communities) == 1:
        return redirect("disclosure:office", code=communities[0].code)
    return render(request, "disclosure/office/index.html", {"communities": communities})


@staff_page(PERM)
def office(request, code: str):
    community = _community(request, code)
    state = request.GET.get("state") or ""
    state = state if state in E.values else ""
    section = request.GET.get("section") or ""
    section = section if section in Section.values else ""
    q = (request.GET.get("q") or "").strip()[:100]
    from django.core.paginator import Paginator

    entries = selectors.office_entries(community, state=state or None, section=section or None, q=q)
    if q and not rules.may_change(request.user, community):
        # The street's search reads public words only: a number or door typed into it must not
        # tell whether an unpublished entry holds it (docs/roles.md).
        entries = entries.filter(state=E.PUBLISHED)
    page = Paginator(entries, 30).get_page(request.GET.get("page"))
    if not rules.may_change(request.user, community):
        for entry in page:  # the street reads unpublished words scrubbed, like cases (docs/roles.md)
            _scrub_for_reader(entry)
    overdue = duties.overdue(community)
    counts = selectors.state_counts(community)
    return render(request, "disclosure/office/list.html", {
        "community": community, "page": page, "state": state, "section": section, "q": q,
        "states": [(value, label, counts[value]) for value, label in E.choices], "sections": Section.choices,
        "url_params": urlencode({k: v for k, v in (("state", state), ("section", section), ("q", q)) if v}),
        "overdue": overdue, "may_write": bool(_sections(request.user, community)),
        "generate_form": GenerateForm() if _sections(request.user, community) else None,
    })


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def new(request, code: str):
    community = _community(request, code)
    sections = _sections(request.user, community)
    if not sections:
        raise Http404
    initial = {"section": request.GET.get("section") if request.GET.get("section") in sections else sections[0]}
    duty = Duty.objects.filter(community=community, pk=request.GET.get("duty") or 0).first() \
        if (request.GET.get("duty") or "").isdigit() else None
    if duty is not None:
        initial.update(section=duty.section, duty=duty.pk, title=duty.title)
    form = EntryForm(request.POST or None, request.FILES or None, community=community, sections=sections,
                     initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.create_draft(
                actor=request.user, community=community, section=data["section"], title=data["title"],
                body=data["body"], period_start=data["period_start"], period_end=data["period_end"],
                duty=data["duty"], files=data["files"])
        except LinliError as exc:
            _error(form, exc)
        else:
            messages.success(request, _saved_message(entry))
            return redirect("disclosure:office_entry", code=code, pk=entry.pk)
    return render(request, "disclosure/office/edit.html", {"community": community, "form": form, "entry": None})


def _saved_message(entry) -> str:
    from django.utils.translation import gettext as _

    if pii.entry_holds_numbers(title=entry.title, body=entry.body):
        return _("Saved. The text looks like it holds a phone or ID number: it will be held until masked.")
    return _("Saved as a draft.")


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def edit(request, code: str, pk: int):
    community = _community(request, code)
    entry = _entry(community, pk)
    if entry.state not in services.EDITABLE or not rules.may_author(request.user, community.pk, entry.section):
        raise Http404
    initial = {"section": entry.section, "title": entry.title, "body": entry.body,
               "period_start": entry.period_start, "period_end": entry.period_end, "duty": entry.duty_id}
    form = EntryForm(request.POST or None, request.FILES or None, community=community, initial=initial,
                     fixed_section=entry.section)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        body = data["body"]
        title = data["title"]
        if request.POST.get("mask"):
            body, title = pii.masked(body), pii.masked(title)
        try:
            services.update_draft(actor=request.user, entry=entry, title=title, body=body,
                                  period_start=data["period_start"], period_end=data["period_end"],
                                  duty=data["duty"], files=data["files"],
                                  remove=[v for v in request.POST.getlist("remove") if v.isdigit()])
        except LinliError as exc:
            _error(form, exc)
        else:
            entry.refresh_from_db()
            messages.success(request, _saved_message(entry))
            return redirect("disclosure:office_entry", code=code, pk=entry.pk)
    return render(request, "disclosure/office/edit.html", {
        "community": community, "form": form, "entry": entry,
        "holds_numbers": pii.entry_holds_numbers(title=entry.title, body=entry.body)})


def _scrub_for_reader(entry) -> None:
    """What a reader without an office (the street supervisor) sees of an entry that is not
    public yet: phone and ID numbers and home doors masked (in memory only, never saved)."""
    if entry.state not in (E.PUBLISHED, E.WITHDRAWN):
        entry.title = scrub(entry.title, doors=True)
        entry.body = scrub(entry.body, doors=True)


@staff_page(PERM)
def detail(request, code: str, pk: int):
    community = _community(request, code)
    entry = _entry(community, pk)
    reader_only = not rules.may_change(request.user, community)
    if reader_only:
        _scrub_for_reader(entry)
    allowed = ENTRY.allowed(request.user, entry)
    return render(request, "disclosure/office/entry.html", {
        "community": community, "entry": entry, "allowed": allowed,
        "may_edit": entry.state in services.EDITABLE and rules.may_author(request.user, community.pk, entry.section),
        "may_correct": entry.state == E.PUBLISHED and rules.may_author(request.user, community.pk, entry.section),
        "holds_numbers": pii.entry_holds_numbers(title=entry.title, body=entry.body),
        "note_form": NoteForm(), "withdraw_form": WithdrawForm(),
        "public_url": _public_url(community, entry), "reader_only": reader_only,
    })


def _public_url(community, entry) -> str:
    if entry.log_index is None:
        return ""
    from django.urls import NoReverseMatch

    try:
        return reverse("disclosure:entry", kwargs={"code": community.code, "index": entry.log_index})
    except NoReverseMatch:
        return ""


@staff_page(PERM)
@require_POST
def move(request, code: str, pk: int, name: str):
    community = _community(request, code)
    entry = _entry(community, pk)
    if name not in ("submit", "return", "publish", "withdraw"):
        raise Http404
    form = None
    try:
        if name == "submit":
            entry = services.submit(actor=request.user, entry=entry)
        elif name == "publish":
            entry = services.publish(actor=request.user, entry=entry)
        elif name == "return":
            form = NoteForm(request.POST)
            if form.is_valid():
                entry = services.return_to_author(actor=request.user, entry=entry, note=form.cleaned_data["note"])
        else:
            form = WithdrawForm(request.POST)
            if form.is_valid():
                entry = services.withdraw(actor=request.user, entry=entry, reason=form.cleaned_data["reason"])
    except LinliError as exc:
        messages.error(request, str(exc.message))
        return redirect("disclosure:office_entry", code=code, pk=pk)
    if form is not None and not form.is_valid():
        return render(request, "disclosure/office/entry.html", {
            "community": community, "entry": entry, "allowed": ENTRY.allowed(request.user, entry),
            "note_form": form if name == "return" else NoteForm(),
            "withdraw_form": form if name == "withdraw" else WithdrawForm(),
            "public_url": _public_url(community, entry), "open_form": name}, status=400)
    move_ = ENTRY.move(name)
    if name == "submit" and entry.state == E.HELD:
        messages.warning(request, entry.note)
    else:
        messages.success(request, str(move_.message))
    return redirect("disclosure:office_entry", code=code, pk=pk)


@staff_page(PERM)
@require_POST
def correct(request, code: str, pk: int):
    community = _community(request, code)
    entry = _entry(community, pk)
    try:
        draft = services.start_correction(actor=request.user, entry=entry)
    except LinliError as exc:
        messages.error(request, str(exc.message))
        return redirect("disclosure:office_entry", code=code, pk=pk)
    return redirect("disclosure:office_edit", code=code, pk=draft.pk)


@staff_page(PERM)
def attachment(request, code: str, pk: int, att: int):
    community = _community(request, code)
    entry = _entry(community, pk)
    if not rules.may_change(request.user, community) and entry.state != E.PUBLISHED:
        raise Http404  # a draft's files may still hold what masking would hide
    item = entry.attachments.filter(pk=att).first()
    content = attachments.read_bytes(item) if item is not None else None
    if content is None:
        raise Http404
    response = HttpResponse(content, content_type=item.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def duty_list(request, code: str):
    community = _community(request, code)
    is_admin = rules.is_admin_of(request.user, community.pk)
    if request.method == "POST":
        if not is_admin:
            raise Http404
        try:
            made = services.install_default_duties(community=community, actor=request.user)
        except LinliError as exc:
            messages.error(request, str(exc.message))
        else:
            from django.utils.translation import ngettext

            messages.success(request, ngettext("%(n)d duty installed.", "%(n)d duties installed.", len(made))
                             % {"n": len(made)})
        return redirect("disclosure:office_duties", code=code)
    periods = duties.community_periods(community)
    rows = []
    for duty in Duty.objects.filter(community=community).order_by("section", "code"):
        mine = [p for p in periods if p.duty.pk == duty.pk]
        rows.append({"duty": duty, "periods": mine[:6],
                     "overdue": sum(1 for p in mine if p.status == "overdue")})
    return render(request, "disclosure/office/duties.html", {
        "community": community, "rows": rows, "is_admin": is_admin,
        "may_write": bool(_sections(request.user, community))})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def duty_edit(request, code: str, pk: int | None = None):
    community = _community(request, code)
    if not rules.is_admin_of(request.user, community.pk):
        raise Http404
    duty = Duty.objects.filter(community=community, pk=pk).first() if pk else None
    if pk and duty is None:
        raise Http404
    initial = {}
    if duty is not None:
        initial = {name: getattr(duty, name) for name in
                   ("code", "section", "title", "frequency", "days_allowed", "since", "active")}
    form = DutyForm(request.POST or None, initial=initial)
    if duty is not None:
        form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_duty(actor=request.user, community=community, duty=duty,
                               code=duty.code if duty else data["code"], section=data["section"],
                               title=data["title"], frequency=data["frequency"],
                               days_allowed=data["days_allowed"], since=data["since"], active=data["active"])
        except LinliError as exc:
            _error(form, exc)
        else:
            from django.utils.translation import gettext as _

            messages.success(request, _("Duty saved."))
            return redirect("disclosure:office_duties", code=code)
    return render(request, "disclosure/office/duty.html", {"community": community, "form": form, "duty": duty})


@staff_page(PERM)
@require_POST
def generate(request, code: str):
    community = _community(request, code)
    form = GenerateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("disclosure:office", code=code)
    kind = form.cleaned_data["kind"]
    year, month = form.cleaned_data["month"]
    section = Section.RESIDENTIAL if kind == "rates" else Section.FINANCE
    if not rules.may_author(request.user, community.pk, section):
        raise Http404
    try:
        if kind == "finance":
            entry = services.generate_finance_draft(actor=request.user, community=community, year=year, month=month)
        elif kind == "budget":
            entry = services.generate_budget_draft(actor=request.user, community=community, year=year,
                                                   upto_month=month)
        else:
            entry = services.generate_rates_draft(actor=request.user, community=community, year=year, month=month)
    except LinliError as exc:
        messages.error(request, str(exc.message))
        return redirect("disclosure:office", code=code)
    messages.success(request, _saved_message(entry))
    return redirect("disclosure:office_entry", code=code, pk=entry.pk)
