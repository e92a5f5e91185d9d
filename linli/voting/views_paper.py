"""The officers' pages of booths and paper ballots, under ``/votes/<code>/office/v/<id>/paper/``
(docs/voting.md, "Booth and paper").

- ``paper_home``: the vote's booths, each with its reconciliation (voters marked against sheets
  counted, waiting, disputed, void; gaps in words and colour), the disputed sheets, a form to add
  a booth, and the links below. The street supervisor reads it; only officers act.
- ``paper_desk``: a booth's desk: find a resident (the registry's exact look-up by mobile number,
  ID number, full name or surname; masked results), then ``paper_resident``: may they vote, have
  they voted (by any channel), and the three things to do — the booth's ballot
  (``paper_ballot``: ``services.cast`` channel "booth", or "proxy" with a reason), a paper sheet
  (``services.mark_paper``).
- ``paper_codes``: issue a batch of codes for a booth; the codes are shown once, with a button
  that posts them back for the PDF of the sheets (``paper_sheets_pdf``; never in a URL).
- ``paper_enter``: type in a returned sheet (``paper.enter_sheet``); ``paper_resolve``: a third
  officer settles a disputed sheet; ``paper_spoil``: declare an unused sheet void.
- ``paper_poster``: the vote's A4 poster (PDF) with the QR code of the residents' ballot page.

Officers are the community's admins and workers (``rules.may_officiate``); anyone else gets 404
for the community, as for a community that does not exist. Each view parses, authorises, calls
one service and renders; a refusal changes nothing and says why.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from linli.community import selectors as registry
from linli.community.models import Community, Grid
from linli.core.errors import InvalidInput, LinliError, NotFound, PermissionDenied
from linli.core.web import staff_page

from . import paper, pdf, rules, services
from .eligibility import eligible, scope_grid_ids, voter_key
from .forms_ballot import BallotForm
from .models import Booth, Channel, Participation, Vote
from .web import refuse

PERM = "voting.use_office"


# -- loading -------------------------------------------------------------------------------


def _vote(request, code: str, vote_id: int, *, read: bool = False) -> tuple[Community, Vote, bool]:
    """The community, the vote, and whether the account is an officer; 404 for anyone who
    may not (``read``: the street supervisor reads)."""
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise Http404
    officer = rules.may_officiate(request.user, community)
    if not officer and not (read and rules.may_read_office(request.user, community)):
        raise Http404
    vote = (Vote.objects.select_related("process__community").filter(pk=vote_id, process__community=community)
            .first())
    if vote is None:
        raise Http404
    return community, vote, officer


def _booth(vote: Vote, booth_id: int) -> Booth:
    booth = Booth.objects.filter(vote=vote, pk=booth_id).first()
    if booth is None:
        raise Http404
    return booth


def _grids(vote: Vote) -> list[Grid]:
    ids = scope_grid_ids(vote)
    qs = Grid.objects.filter(community_id=vote.process.community_id)
    if ids:
        qs = qs.filter(pk__in=ids)
    return list(qs.order_by("code", "pk"))


def _home(community, vote) -> str:
    return reverse("voting:paper_home", args=[community.code, vote.pk])


def _check_url(request, community, vote) -> str:
    """The public receipt check of the vote, printed on the strip voters keep."""
    return request.build_absolute_uri(reverse("voting:receipt", args=[community.code, vote.pk]))


# -- forms ---------------------------------------------------------------------------------


class BoothForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the booth"), max_length=80,
                           help_text=gettext_lazy("As officers and residents call it, e.g. “Service centre desk 1”."))
    place = forms.CharField(label=gettext_lazy("Where it is"), max_length=120, required=False)


class SearchForm(forms.Form):
    query = forms.CharField(
        label=gettext_lazy("Mobile number, ID number, full name or surname"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
        help_text=gettext_lazy("Names are found whole or by the surname only, as in the registry."))


class CodesForm(forms.Form):
    count = forms.IntegerField(label=gettext_lazy("How many sheets"), min_value=1, max_value=paper.MAX_BATCH,
                               initial=50)

    def __init__(self, vote, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if vote.breakdown_by_grid:
            self.fields["grid"] = forms.ChoiceField(
                label=gettext_lazy("Courtyard printed on the sheets"),
                choices=[("", "—")] + [(str(g.pk), g.name) for g in _grids(vote)],
                help_text=gettext_lazy("This vote counts per courtyard: print one batch per courtyard "
                                       "and hand each voter a sheet of their own courtyard."))


class BoothBallotForm(BallotForm):
    """The booth's ballot: the resident's own form, and for a proxy the reason."""

    def __init__(self, vote, *args, proxy: bool = False, **kwargs):
        super().__init__(vote, *args, **kwargs)
        if proxy:
            self.fields["proxy_reason"] = forms.CharField(
                label=gettext_lazy("Why the resident votes by proxy"), max_length=200,
                help_text=gettext_lazy("E.g. “cannot leave home; visited by the grid worker”. "
                                       "No health details: the reason is kept with the participation."))


class SheetForm(BallotForm):
    """One reading of a returned paper sheet: its code, the courtyard printed on it (votes
    counted per courtyard), what is marked — or that it is void; for a third officer settling
    a disputed sheet, the reason."""

    def __init__(self, vote, *args, resolve: bool = False, **kwargs):
        super().__init__(vote, *args, **kwargs)
        for item in self.questions:  # paper carries no comments; a blank criterion stays blank
            if item["comment"]:
                del self.fields[item["comment"]]
                item["comment"] = None
            self.fields[item["name"]].required = False
        self.fields["code"] = forms.CharField(
            label=gettext_lazy("Sheet code"), max_length=20,
            widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                          "spellcheck": "false", "class": "code"}),
            help_text=gettext_lazy("The 10 letters and digits at the foot of the sheet; dashes may be left out."))
        if vote.breakdown_by_grid:
            self.fields["grid"] = forms.ChoiceField(
                label=gettext_lazy("Courtyard printed on the sheet"), required=False,
                choices=[("", "—")] + [(str(g.pk), g.name) for g in _grids(vote)])
        self.fields["void"] = forms.BooleanField(
            label=gettext_lazy("The sheet is void: blank, torn, or marked so that no valid choice can be read"),
            required=False)
        if resolve:
            self.fields["reason"] = forms.CharField(
                label=gettext_lazy("Reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}),
                help_text=gettext_lazy("What the sheet shows and why the entries differed."))
        self.order_fields(["code", "grid"])

    def clean(self):
        if self.data.get("void"):
            return forms.Form.clean(self)
        return super().clean()

    def sheet(self) -> dict | None:
        return None if self.cleaned_data.get("void") else self.choices()


def _error(form, exc: LinliError) -> None:
    field = exc.field if exc.field in form.fields else None
    if field is None and hasattr(form, "field_for"):
        field = form.field_for(exc.field)
    form.add_error(field, forms.ValidationError(str(exc.message), code=exc.code))


# -- the vote's paper page -------------------------------------------------------------------


@staff_page(PERM)
@require_safe
def paper_home(request, code, vote_id):
    community, vote, officer = _vote(request, code, vote_id, read=True)
    rows = paper.reconcile(vote)
    disputed = paper.mismatches(vote)
    booths = {b.pk: b for b in vote.booths.all()}
    for item in disputed:
        item.booth = booths.get(item.booth_id)
    return render(request, "voting/paper/home.html", {
        "community": community, "vote": vote, "officer": officer, "rows": rows, "disputed": disputed,
        "booth_form": BoothForm(), "paper_ok": _paper_ok(vote),
        "totals": _totals(rows),
    })


def _paper_ok(vote) -> str:
    """"" when the vote takes paper sheets, else why not (translated)."""
    try:
        paper.paper_allowed(vote)
    except InvalidInput as exc:
        return str(exc.message)
    return ""


def _totals(rows) -> dict:
    keys = ("marked", "counted", "pending", "mismatched", "void", "gap", "issued", "unused")
    totals = {k: sum(getattr(r, k) for r in rows) for k in keys}
    totals["missing"] = sum(r.missing for r in rows)
    totals["extra"] = sum(r.extra for r in rows)
    return totals


@staff_page(PERM)
@require_POST
def paper_booth_new(request, code, vote_id):
    community, vote, officer = _vote(request, code, vote_id)
    form = BoothForm(request.POST)
    if form.is_valid():
        try:
            booth = paper.booth_create(actor=request.user, vote=vote, name=form.cleaned_data["name"],
                                       place=form.cleaned_data["place"])
        except LinliError as exc:
            return refuse(request, exc, back=_home(community, vote))
        messages.success(request, _("Booth “%(name)s” added.") % {"name": booth.name})
        return redirect(_home(community, vote))
    rows = paper.reconcile(vote)
    return render(request, "voting/paper/home.html", {
        "community": community, "vote": vote, "officer": officer, "rows": rows,
        "disputed": paper.mismatches(vote), "booth_form": form, "paper_ok": _paper_ok(vote),
        "totals": _totals(rows),
    }, status=400)


# -- the desk ------------------------------------------------------------------------------


def _status(vote, resident) -> dict:
    ok, why = eligible(vote, resident, today=timezone.localdate())
    participation = (Participation.objects.filter(vote=vote, voter_key=voter_key(vote, resident))
                     .select_related("booth").first())
    return {"resident": resident, "eligible": ok, "why": why, "participation": participation}


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def paper_desk(request, code, vote_id, booth_id):
    """Find the resident. The query travels in the POST body only and is not kept."""
    community, vote, _officer = _vote(request, code, vote_id)
    booth = _booth(vote, booth_id)
    found = None
    form = SearchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        residents = (registry.resident_search(request.user, query=form.cleaned_data["query"])
                     .filter(community=community)[:20])
        found = [_status(vote, r) for r in residents]
        form = SearchForm()  # the number or name typed is not echoed back
    return render(request, "voting/paper/desk.html", {
        "community": community, "vote": vote, "booth": booth, "form": form, "found": found,
        "paper_ok": _paper_ok(vote),
    }, status=400 if form.errors else 200)


def _resident(request, community, resident_id):
    try:
        resident = registry.resident_get(request.user, resident_id)
    except NotFound:
        raise Http404
    if resident.community_id != community.pk:
        raise Http404
    return resident


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def paper_resident(request, code, vote_id, booth_id, resident_id):
    """The resident at the desk: may they vote, have they; POST ``action=paper`` hands them a sheet."""
    community, vote, _officer = _vote(request, code, vote_id)
    booth = _booth(vote, booth_id)
    resident = _resident(request, community, resident_id)
    desk = reverse("voting:paper_desk", args=[community.code, vote.pk, booth.pk])
    if request.method == "POST":
        if request.POST.get("action") != "paper":
            raise Http404
        try:
            paper.paper_allowed(vote)
            services.mark_paper(vote=vote, resident=resident, actor=request.user, booth=booth)
        except LinliError as exc:
            return refuse(request, exc, back=request.path)
        if vote.breakdown_by_grid:
            messages.success(request, _("Recorded. Hand the resident one sheet from the pile of %(grid)s.")
                             % {"grid": resident.grid.name})
        else:
            messages.success(request, _("Recorded. Hand the resident one sheet from the pile."))
        return redirect(desk)
    return render(request, "voting/paper/resident.html", {
        "community": community, "vote": vote, "booth": booth, "desk": desk,
        "paper_ok": _paper_ok(vote), "channels": vote.channels or [], **_status(vote, resident),
    })


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def paper_ballot(request, code, vote_id, booth_id, resident_id):
    """The booth's ballot for this resident (``?how=proxy``: by proxy, with a reason)."""
    community, vote, _officer = _vote(request, code, vote_id)
    booth = _booth(vote, booth_id)
    resident = _resident(request, community, resident_id)
    proxy = (request.POST.get("how") or request.GET.get("how")) == "proxy"
    channel = Channel.PROXY if proxy else Channel.BOOTH
    back = reverse("voting:paper_resident", args=[community.code, vote.pk, booth.pk, resident.pk])
    if request.method == "GET":  # say at once what casting would refuse (cast checks it all again)
        status = _status(vote, resident)
        if status["participation"] is not None:
            return refuse(request, services.AlreadyVoted(
                _("This resident has already voted in this vote (or took a paper sheet).")
                if vote.eligibility == Vote.Eligibility.ADULTS else
                _("This resident's household has already voted in this vote (or took a paper sheet).")), back=back)
        if not status["eligible"]:
            return refuse(request, PermissionDenied(status["why"], code="not_eligible"), back=back)
    form = BoothBallotForm(vote, request.POST or None, proxy=proxy)
    if request.method == "POST" and form.is_valid():
        try:
            receipt = services.cast(vote=vote, resident=resident, choices=form.choices(), channel=channel,
                                    actor=request.user, booth=booth,
                                    proxy_reason=form.cleaned_data.get("proxy_reason", ""))
        except InvalidInput as exc:
            if exc.code in ("already_voted", "vote_not_open", "channel_closed"):
                return refuse(request, exc, back=back)
            _error(form, exc)
        except LinliError as exc:
            return refuse(request, exc, back=back)
        else:
            return render(request, "voting/paper/receipt.html", {
                "community": community, "vote": vote, "booth": booth, "receipt": receipt, "proxy": proxy,
                "desk": reverse("voting:paper_desk", args=[community.code, vote.pk, booth.pk]),
            })
    return render(request, "voting/paper/ballot.html", {
        "community": community, "vote": vote, "booth": booth, "resident": resident, "form": form,
        "rows": form.rows(), "limits": form.limits_text(), "proxy": proxy, "back": back,
    }, status=400 if form.errors else 200)


# -- codes and sheets --------------------------------------------------------------------------


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def paper_codes(request, code, vote_id, booth_id):
    """Issue a batch of codes. The codes are shown in this response only."""
    community, vote, _officer = _vote(request, code, vote_id)
    booth = _booth(vote, booth_id)
    form = CodesForm(vote, request.POST or None)
    context = {"community": community, "vote": vote, "booth": booth, "form": form, "paper_ok": _paper_ok(vote)}
    if request.method == "POST" and form.is_valid():
        try:
            codes = paper.issue_codes(actor=request.user, vote=vote, booth=booth, count=form.cleaned_data["count"])
        except LinliError as exc:
            _error(form, exc)
        else:
            grid = form.cleaned_data.get("grid") or ""
            return render(request, "voting/paper/codes_issued.html", {
                **context, "codes": [pdf.group_code(c) for c in codes], "grid": grid,
            })
    return render(request, "voting/paper/codes.html", context, status=400 if form.errors else 200)


@staff_page(PERM)
@require_POST
def paper_sheets_pdf(request, code, vote_id, booth_id):
    """The sheets of codes posted back from the issue page (unused codes of this booth only)."""
    community, vote, _officer = _vote(request, code, vote_id)
    booth = _booth(vote, booth_id)
    grid_name = ""
    if vote.breakdown_by_grid:
        grid = next((g for g in _grids(vote) if str(g.pk) == request.POST.get("grid")), None)
        if grid is None:
            return refuse(request, InvalidInput(_("Choose the courtyard printed on the sheets.")),
                          back=reverse("voting:paper_codes", args=[community.code, vote.pk, booth.pk]))
        grid_name = grid.name
    try:
        codes = paper.issued_here(vote, booth, request.POST.getlist("code"))
        if not codes:
            raise InvalidInput(_("No codes to print."))
        body = pdf.ballot_sheets(vote, codes, booth=booth, grid_name=grid_name,
                                 check_url=_check_url(request, community, vote))
    except LinliError as exc:
        return refuse(request, exc, back=reverse("voting:paper_codes", args=[community.code, vote.pk, booth.pk]))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="ballot-sheets-{vote.pk}-{booth.pk}.pdf"'
    return response


# -- entering sheets ---------------------------------------------------------------------------


STATE_MESSAGES = {
    paper.SheetState.WAITING_SECOND: gettext_lazy(
        "First entry saved. Put the sheet on the pile for the second entry by another officer."),
    paper.SheetState.COUNTED: gettext_lazy("Both entries agree: the sheet is counted."),
    paper.SheetState.VOID: gettext_lazy("Both entries agree that the sheet is void: it is recorded as void."),
    paper.SheetState.MISMATCH: gettext_lazy(
        "The two entries differ: the sheet does not count yet. Put it on the pile for a third officer, "
        "who settles it on the paper page."),
}


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def paper_enter(request, code, vote_id):
    community, vote, _officer = _vote(request, code, vote_id)
    form = SheetForm(vote, request.POST or None)
    outcome = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                outcome = paper.enter_sheet(actor=request.user, vote=vote, code=form.cleaned_data["code"],
                                            choices=form.sheet(), grid=form.cleaned_data.get("grid") or None)
            except LinliError as exc:
                _error(form, exc)
                status = exc.status
            else:
                form = SheetForm(vote)  # the next sheet
        else:
            status = 400
    return render(request, "voting/paper/enter.html", {
        "community": community, "vote": vote, "form": form, "rows": form.rows(), "limits": form.limits_text(),
        "outcome": outcome, "outcome_message": STATE_MESSAGES.get(outcome, ""), "resolve": False,
        "spoil_form": SpoilForm(),
    }, status=status)


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def paper_resolve(request, code, vote_id):
    community, vote, _officer = _vote(request, code, vote_id)
    form = SheetForm(vote, request.POST or None, resolve=True)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                outcome = paper.resolve_mismatch(
                    actor=request.user, vote=vote, code=form.cleaned_data["code"], choices=form.sheet(),
                    reason=form.cleaned_data["reason"], grid=form.cleaned_data.get("grid") or None)
            except LinliError as exc:
                _error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("The sheet is settled and counted.") if outcome == paper.SheetState.COUNTED
                                 else _("The sheet is settled as void."))
                return redirect(_home(community, vote))
        else:
            status = 400
    return render(request, "voting/paper/enter.html", {
        "community": community, "vote": vote, "form": form, "rows": form.rows(), "limits": form.limits_text(),
        "resolve": True,
    }, status=status)


class SpoilForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Sheet code"), max_length=20,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "class": "code"}))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200,
                             help_text=gettext_lazy("E.g. “torn while printing”, “returned blank and unsigned”."))


@staff_page(PERM)
@require_POST
def paper_spoil(request, code, vote_id):
    community, vote, _officer = _vote(request, code, vote_id)
    form = SpoilForm(request.POST)
    back = reverse("voting:paper_enter", args=[community.code, vote.pk])
    if not form.is_valid():
        return refuse(request, InvalidInput(_("Give the sheet's code and a reason.")), back=back)
    try:
        paper.spoil_code(actor=request.user, vote=vote, code=form.cleaned_data["code"],
                         reason=form.cleaned_data["reason"])
    except LinliError as exc:
        return refuse(request, exc, back=back)
    messages.success(request, _("The sheet is recorded as void; its code will never count."))
    return redirect(back)


# -- the poster ----------------------------------------------------------------------------------


@staff_page(PERM)
@require_safe
def paper_poster(request, code, vote_id):
    """The vote's A4 poster: where and until when to vote, and the QR code of the ballot page."""
    community, vote, _officer = _vote(request, code, vote_id, read=True)
    lines = []
    phase = vote.process.phases.filter(key=vote.phase_key).first()
    if phase is not None:
        lines.append(_("Voting from %(start)s to %(end)s.") % {
            "start": timezone.localtime(phase.starts_at).strftime("%Y-%m-%d %H:%M"),
            "end": timezone.localtime(phase.ends_at).strftime("%Y-%m-%d %H:%M")})
    if Channel.WEB in (vote.channels or []):
        lines.append(_("Vote on your phone: scan the code below and sign in."))
    for booth in vote.booths.all():
        lines.append(_("Vote in person: %(booth)s") % {"booth": f"{booth.name} {booth.place}".strip()})
    if Channel.PROXY in (vote.channels or []):
        lines.append(_("Cannot leave home? Ask the community office: an officer takes your vote by proxy."))
    if vote.process.description:
        lines.append(vote.process.description)
    url = request.build_absolute_uri(reverse("voting:my_votes", args=[community.code]))
    body = pdf.poster(f"{community.name} · {vote.title}", lines, url)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="vote-{vote.pk}-poster.pdf"'
    return response
