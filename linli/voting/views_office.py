"""The office pages of processes and votes, under ``/votes/<code>/office/`` (docs/voting.md).

Pages: the list of processes (``office``), a new process with its phases (``office_process_new``:
one row per phase), a process (``office_process``) and its phases (``office_phases``), a new
vote with its questions and options (``office_vote_new``), a vote with its turnout — counts
only, never who voted how — (``office_vote``) and its moves (``office_vote_move``: open, close,
and publish, which ``linli.voting.results.publish`` makes: close, count, publish on the board).
Each view parses, authorises (:mod:`linli.voting.rules`), calls one service and redirects; a
refusal is shown on the form, or on the refusal page (:func:`linli.voting.web.refuse`).

Community admins and workers run them; the street supervisor reads them. The vote page lists
links other parts add through the hook ``voting.office_vote_links`` (``(user, vote) →
[(label, url)]``: booths and paper sheets, counting and publishing).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from linli.community.models import Community, Grid
from linli.community.selectors import office_index_communities
from linli.core.errors import InvalidInput, LinliError
from linli.core.registry import hooks
from linli.core.web import staff_page

from . import eligibility, phases, results, rules, services
from .models import Channel, Participation, Process, Vote
from .web import refuse
from .workflow import VOTE

PERM = "voting.use_office"
OFFICE_VOTE_LINKS = "voting.office_vote_links"
DT_INPUT = "%Y-%m-%dT%H:%M"
PHASE_ROWS = 6

DEFAULT_PHASES = {
    "deliberation": [("proposals", gettext_lazy("Proposals")), ("council", gettext_lazy("Council meeting")),
                     ("execution", gettext_lazy("Carrying out")), ("evaluation", gettext_lazy("Evaluation"))],
    "fund": [("proposals", gettext_lazy("Proposals")), ("review", gettext_lazy("Review")),
             ("vote", gettext_lazy("Vote")), ("implementation", gettext_lazy("Implementation"))],
    "evaluation": [("rating", gettext_lazy("Rating")), ("response", gettext_lazy("Responses"))],
    "vote": [("voting", gettext_lazy("Voting"))],
}


# --- forms ------------------------------------------------------------------------------------


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DT_INPUT, **kwargs)


class ProcessForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Process.Kind.choices)
    description = forms.CharField(label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    grids = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Courtyards"), queryset=Grid.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple, help_text=gettext_lazy("None chosen: the whole community."))
    ends_at = forms.DateTimeField(label=gettext_lazy("The process ends"), widget=DateTimeInput(),
                                  input_formats=[DT_INPUT])

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grids"].queryset = Grid.objects.filter(community=community).order_by("code")


class PhasesForm(forms.Form):
    ends_at = forms.DateTimeField(label=gettext_lazy("The process ends"), widget=DateTimeInput(),
                                  input_formats=[DT_INPUT])


class PhaseRow(forms.Form):
    key = forms.SlugField(label=gettext_lazy("Key"), max_length=32, required=False)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80, required=False)
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts"), widget=DateTimeInput(), required=False,
                                    input_formats=[DT_INPUT])
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False)


PhaseRows = forms.formset_factory(PhaseRow, extra=0, max_num=12)


class VoteForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Vote.Kind.choices)
    eligibility = forms.ChoiceField(label=gettext_lazy("Who may vote"), choices=Vote.Eligibility.choices)
    rule = forms.ChoiceField(label=gettext_lazy("Rule"), choices=Vote.Rule.choices)
    phase_key = forms.ChoiceField(label=gettext_lazy("Ballots are taken in the phase"))
    quorum_percent = forms.IntegerField(label=gettext_lazy("Quorum (% of the roll)"), min_value=1, max_value=100,
                                        initial=50)
    min_choices = forms.IntegerField(label=gettext_lazy("Fewest choices per question"), min_value=0, initial=0)
    max_choices = forms.IntegerField(label=gettext_lazy("Most choices per question"), min_value=1, required=False)
    budget_yuan = forms.DecimalField(label=gettext_lazy("Budget (yuan; approval as a knapsack)"), required=False,
                                     min_value=Decimal("0.01"), decimal_places=2)
    min_budget_share_percent = forms.IntegerField(label=gettext_lazy("Least share of the budget (%)"),
                                                  min_value=0, max_value=100, initial=0)
    channels = forms.MultipleChoiceField(label=gettext_lazy("Ways to vote"), choices=Channel.choices,
                                         widget=forms.CheckboxSelectMultiple, initial=list(Channel.values))
    breakdown_by_grid = forms.BooleanField(label=gettext_lazy("Results per courtyard"), required=False)
    questions = forms.CharField(
        label=gettext_lazy("Questions and options"), widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy("One block per question, blocks separated by an empty line: the question on the "
                               "first line, one option per line below it. An option may carry its cost: "
                               "“label | cost in yuan”. Rating votes need the criteria only, one per line."))

    def __init__(self, *args, process, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase_key"].choices = [(p.key, p.name) for p in process.phases.filter(enabled=True)]


def parse_questions(text: str, kind: str) -> list[tuple[str, list]]:
    """The questions textarea as ``vote_create`` takes it."""
    lines = [line.strip() for line in (text or "").splitlines()]
    if kind == Vote.Kind.RATING:
        return [(line, []) for line in lines if line]
    blocks, block = [], []
    for line in lines + [""]:
        if line:
            block.append(line)
        elif block:
            blocks.append(block)
            block = []
    out = []
    for block in blocks:
        options = []
        for line in block[1:]:
            label, _sep, rest = line.partition("|")
            cost = 0
            if rest.strip():
                cost_text, _s, ref = rest.partition("|")
                try:
                    cost = int((Decimal(cost_text.strip().replace(",", "")) * 100).to_integral_value())
                except InvalidOperation:
                    raise InvalidInput(_("“%(text)s” is not an amount in yuan.") % {"text": cost_text.strip()},
                                       field="questions") from None
                options.append((label.strip(), cost, ref.strip()))
            else:
                options.append(label.strip())
        out.append((block[0], options))
    return out


# --- helpers ----------------------------------------------------------------------------------


def _community(request, code: str) -> Community:
    community = Community.objects.select_related("street").filter(code=code).first()
    if community is None or not rules.may_read_office(request.user, community):
        raise Http404
    return community


def _process(community, pk: int) -> Process:
    process = Process.objects.filter(community=community, pk=pk).prefetch_related("phases", "grids").first()
    if process is None:
        raise Http404
    return process


def _vote(community, pk: int) -> Vote:
    vote = Vote.objects.select_related("process__community").filter(process__community=community, pk=pk).first()
    if vote is None:
        raise Http404
    return vote


def _form_error(form, exc: LinliError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, forms.ValidationError(str(exc.message)))


def _specs(rows) -> list[phases.PhaseSpec]:
    specs = []
    for number, row in enumerate(rows, start=1):
        data = row.cleaned_data if row.is_valid() else {}
        if not data or not (data.get("key") or data.get("name")):
            continue
        specs.append(phases.PhaseSpec(key=data.get("key") or f"phase-{number}", name=data.get("name") or "",
                                      starts_at=data.get("starts_at"), enabled=bool(data.get("enabled"))))
    return specs


def _default_rows(kind: str) -> list[dict]:
    start = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    rows = []
    for i, (key, name) in enumerate(DEFAULT_PHASES.get(kind, DEFAULT_PHASES["vote"])):
        rows.append({"key": key, "name": str(name), "starts_at": start + dt.timedelta(days=7 * i), "enabled": True})
    return rows + [{"enabled": True} for _i in range(PHASE_ROWS - len(rows))]


# --- pages ------------------------------------------------------------------------------------


@staff_page(PERM)
def index(request):
    """``/votes/office/``: the menu's link; straight to the one community, else a choice."""
    communities = office_index_communities(request.user, rules.office_communities(request.user))
    if len(communities) == 1:
        return redirect("voting:office", code=communities[0].code)
    return render(request, "voting/office/index.html", {"communities": communities})


@staff_page(PERM)
def processes(request, code: str):
    community = _community(request, code)
    rows = (Process.objects.filter(community=community).prefetch_related("phases")
            .annotate(n_votes=Count("votes")).order_by("-created_at", "-id"))
    from django.core.paginator import Paginator

    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    now = timezone.now()
    for process in page:
        process.current_phase = phases.current(process, now)
    return render(request, "voting/office/processes.html", {
        "community": community, "page": page, "may_run": rules.may_run(request.user, community)})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def process_new(request, code: str):
    community = _community(request, code)
    if not rules.may_run(request.user, community):
        raise Http404
    kind = request.GET.get("kind") if request.GET.get("kind") in Process.Kind.values else Process.Kind.VOTE
    if request.method == "POST":
        form = ProcessForm(request.POST, community=community)
        rows = PhaseRows(request.POST, prefix="phase")
        if form.is_valid() and rows.is_valid():
            try:
                process = services.process_create(
                    actor=request.user, community=community, kind=form.cleaned_data["kind"],
                    title=form.cleaned_data["title"], description=form.cleaned_data["description"],
                    grids=list(form.cleaned_data["grids"]), specs=_specs(rows), ends_at=form.cleaned_data["ends_at"])
            except LinliError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("The process is created."))
                return redirect("voting:office_process", code=community.code, process_id=process.pk)
    else:
        initial_rows = _default_rows(kind)
        last = max((r["starts_at"] for r in initial_rows if r.get("starts_at")), default=timezone.now())
        form = ProcessForm(community=community, initial={"kind": kind, "ends_at": last + dt.timedelta(days=7)})
        rows = PhaseRows(prefix="phase", initial=initial_rows)
    return render(request, "voting/office/process_new.html", {
        "community": community, "form": form, "rows": rows, "kinds": Process.Kind.choices, "kind": kind})


@staff_page(PERM)
def process_detail(request, code: str, process_id: int):
    community = _community(request, code)
    process = _process(community, process_id)
    votes = list(process.votes.annotate(turnout=Count("participations")).order_by("id"))
    return render(request, "voting/office/process.html", {
        "community": community, "process": process, "phases": list(process.phases.all()), "votes": votes,
        "current": phases.current(process), "grids": list(process.grids.all()),
        "may_run": rules.may_run(request.user, community)})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def process_phases(request, code: str, process_id: int):
    community = _community(request, code)
    if not rules.may_run(request.user, community):
        raise Http404
    process = _process(community, process_id)
    existing = list(process.phases.all())
    if request.method == "POST":
        form = PhasesForm(request.POST)
        rows = PhaseRows(request.POST, prefix="phase")
        if form.is_valid() and rows.is_valid():
            try:
                phases.set_phases(actor=request.user, process=process, specs=_specs(rows),
                                  ends_at=form.cleaned_data["ends_at"])
            except LinliError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("The phases are saved."))
                return redirect("voting:office_process", code=community.code, process_id=process.pk)
    else:
        ends = max((p.ends_at for p in existing), default=timezone.now())
        form = PhasesForm(initial={"ends_at": timezone.localtime(ends)})
        initial = [{"key": p.key, "name": p.name, "starts_at": timezone.localtime(p.starts_at), "enabled": p.enabled}
                   for p in existing]
        rows = PhaseRows(prefix="phase", initial=initial + [{"enabled": True} for _i in range(max(1, PHASE_ROWS - len(initial)))])
    return render(request, "voting/office/phases.html", {
        "community": community, "process": process, "form": form, "rows": rows})


@staff_page(PERM)
@require_http_methods(["GET", "POST"])
def vote_new(request, code: str, process_id: int):
    community = _community(request, code)
    if not rules.may_run(request.user, community):
        raise Http404
    process = _process(community, process_id)
    if request.method == "POST":
        form = VoteForm(request.POST, process=process)
        if form.is_valid():
            data = form.cleaned_data
            budget = data.get("budget_yuan")
            try:
                vote = services.vote_create(
                    actor=request.user, process=process, title=data["title"], kind=data["kind"],
                    eligibility=data["eligibility"], rule=data["rule"],
                    questions=parse_questions(data["questions"], data["kind"]),
                    phase_key=data["phase_key"], quorum_percent=data["quorum_percent"],
                    min_choices=data["min_choices"], max_choices=data.get("max_choices"),
                    budget_fen=int(budget * 100) if budget is not None else None,
                    min_budget_share_percent=data["min_budget_share_percent"], channels=list(data["channels"]),
                    breakdown_by_grid=data["breakdown_by_grid"])
            except LinliError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("The vote is saved as a draft. Check it, then open it."))
                return redirect("voting:office_vote", code=community.code, vote_id=vote.pk)
    else:
        form = VoteForm(process=process)
    return render(request, "voting/office/vote_new.html", {"community": community, "process": process, "form": form})


def turnout(vote: Vote) -> dict:
    """Counts only: participations by channel and the roll; never who."""
    by_channel = dict(Participation.objects.filter(vote=vote).values_list("channel").annotate(n=Count("id")))
    total = sum(by_channel.values())
    summary = eligibility.roll(vote)
    base = {Vote.Eligibility.ADULTS: summary.people, Vote.Eligibility.HOUSEHOLDS: summary.households,
            Vote.Eligibility.OWNERS: summary.owners}[vote.eligibility]
    return {
        "total": total, "roll": base, "summary": summary,
        "percent": f"{100 * total / base:.1f}" if base else "",
        "channels": [(label, by_channel.get(value, 0)) for value, label in Channel.choices if value in vote.channels],
        "ballots": vote.ballots.count(),
    }


@staff_page(PERM)
def vote_detail(request, code: str, vote_id: int):
    community = _community(request, code)
    vote = _vote(community, vote_id)
    links = []
    for function in hooks(OFFICE_VOTE_LINKS):
        links.extend(function(request.user, vote) or [])
    moves = [m for m in VOTE.allowed(request.user, vote) if m in ("open", "close")]
    may_publish = "publish" in VOTE.allowed(request.user, vote) or (
        vote.state == Vote.State.OPEN and rules.may_run(request.user, community))
    return render(request, "voting/office/vote.html", {
        "community": community, "vote": vote, "process": vote.process,
        "questions": list(vote.questions.prefetch_related("options")), "turnout": turnout(vote),
        "phase": next((p for p in vote.process.phases.all() if p.key == vote.phase_key), None),
        "moves": [(m, VOTE.move(m).label) for m in moves], "links": links, "may_publish": may_publish,
        "publish_label": VOTE.move("publish").label,
        "desk": bool({"booth", "paper", "proxy"} & set(vote.channels)) and rules.may_run(request.user, community)})


@staff_page(PERM)
@require_POST
def vote_move(request, code: str, vote_id: int):
    community = _community(request, code)
    if not rules.may_run(request.user, community):
        raise Http404  # the street reads, and writes nothing
    vote = _vote(community, vote_id)
    move = request.POST.get("move")
    back = f"{request.path.rsplit('/', 1)[0]}/"
    if move not in ("open", "close", "publish"):
        return refuse(request, InvalidInput(_("Unknown action.")), back=back)
    try:
        if move == "open":
            services.vote_open(actor=request.user, vote=vote)
        elif move == "close":
            services.vote_close(actor=request.user, vote=vote)
        else:
            results.publish(actor=request.user, vote=vote, force_reason=request.POST.get("force_reason", ""))
    except LinliError as exc:
        return refuse(request, exc, back=back)
    messages.success(request, VOTE.move(move).message)
    return redirect("voting:office_vote", code=community.code, vote_id=vote.pk)
