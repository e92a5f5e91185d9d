"""The resident's own points page, the gift form and the office rules page (docs/points.md).

- ``points:mine`` (``/points/me``): the signed-in resident's balance, what expires when, and
  their statement with its running balance, newest first, 20 lines a page. Only their own
  account: the page takes no id, so nobody can ask for another resident's.
- ``points:gift`` (``/points/me/gift``): give points to the community pool or to a neighbour
  found by their mobile number (the number is posted, never put in a URL); a confirm step shows
  the neighbour's masked name before anything moves.
- ``points:office_rules`` (``/points/<code>/office/rules``): points per hour, multipliers and the
  policy; the community's admins change them (one event each form), the office and the street
  supervisor read them.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from linli.community.models import Community, Resident
from linli.core.errors import LinliError, RateLimited
from linli.core.web import no_store

from . import earning, expiry, gifts, ledger
from .forms_earn import GiftForm, MultipliersForm, PolicyForm, RulesForm
from .models import Account

PER_PAGE = 20

KIND_WORDS = {
    "grant": gettext_lazy("Earned"), "redemption": gettext_lazy("Redeemed"), "gift": gettext_lazy("Gift"),
    "expiry": gettext_lazy("Expired"), "reversal": gettext_lazy("Correction"),
    "settlement": gettext_lazy("Settlement"), "adjustment": gettext_lazy("Adjustment"),
}


def _maybe_url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _own_resident(request) -> Resident | None:
    return getattr(request.user, "resident", None)


def _no_resident(request):
    return render(request, "points/mine_none.html", status=403)


def statement_lines(account) -> list[dict]:
    """Every posted line of the account, oldest first, each with the balance after it
    (:func:`linli.points.ledger.statement`: one line per transaction)."""
    return [{"id": line.transaction_id, "kind": line.kind, "kind_label": KIND_WORDS.get(line.kind, line.kind),
             "memo": line.memo, "at": line.at, "amount": line.amount, "balance": line.running_balance}
            for line in ledger.statement(account)]


@login_required
@no_store
def mine(request):
    resident = _own_resident(request)
    if resident is None:
        return _no_resident(request)
    account = Account.objects.filter(resident=resident).select_related("community").first()
    lines = statement_lines(account) if account is not None else []
    # The statement's lines are the movements expiry needs: one read for both.
    tz = timezone.get_current_timezone()
    soon = (expiry.expiring(account, movements=[(line["at"].astimezone(tz).date(), line["amount"]) for line in lines])[:3]
            if account is not None else [])
    lines.reverse()
    page = Paginator(lines, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "points/mine.html", {
        "balance": account.balance if account is not None else 0, "page": page, "expiring": soon,
        "catalogue_url": _maybe_url("points:catalogue"), "qr_url": _maybe_url("points:my_qr"),
        "gift_url": reverse("points:gift"),
    })


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def gift(request):
    resident = _own_resident(request)
    if resident is None:
        return _no_resident(request)
    form = GiftForm(request.POST or None)
    context = {"form": form, "balance": ledger.balance(ledger.account_for(resident)),
               "policy": earning.policy_of(resident.community), "mine_url": reverse("points:mine")}
    if request.method == "POST" and request.POST.get("step") == "edit":
        return render(request, "points/gift.html", context)  # back to the form, as filled in
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        to = None
        if data["to"] == "resident":
            try:
                to = gifts.find_recipient(actor=request.user, from_resident=resident, phone=data["phone"])
            except RateLimited as refusal:
                form.add_error("phone", refusal.message)
                response = render(request, "points/gift.html", context, status=429)
                response["Retry-After"] = str(refusal.retry_after)
                return response
            if to is None:
                form.add_error("phone", _("No resident of your community has this mobile number."))
                return render(request, "points/gift.html", context)
        if request.POST.get("step") != "give":
            return render(request, "points/gift_confirm.html", {
                **context, "data": data, "to_label": to.name.masked if to is not None and to.name else "",
            })
        try:
            gifts.gift(actor=request.user, from_resident=resident, to_resident=to, points=data["points"],
                       note=data["note"])
        except LinliError as exc:
            form.add_error("points" if exc.field == "points" else None, exc.message)
            return render(request, "points/gift.html", context)
        messages.success(request, _("Your gift of %(points)s points was given.") % {"points": data["points"]})
        return redirect("points:mine")
    return render(request, "points/gift.html", context)


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def office_rules(request, code):
    community = get_object_or_404(Community, code=code)
    if not earning.may_read_rules(request.user, community):
        raise DjangoPermissionDenied
    editable = earning.may_edit_rules(request.user, community)
    per_hour, percents = earning.rates(community)
    policy = earning.policy_of(community)
    section = request.POST.get("section") if request.method == "POST" else None
    forms = {
        "rules": RulesForm(request.POST if section == "rules" else None, per_hour=per_hour, prefix="rules"),
        "multipliers": MultipliersForm(request.POST if section == "multipliers" else None, percents=percents,
                                       prefix="mult"),
        "policy": PolicyForm(request.POST if section == "policy" else None, policy=policy, prefix="policy"),
    }
    if section is not None:
        if not editable:
            raise DjangoPermissionDenied
        form = forms.get(section)
        if form is None:
            return redirect("points:office_rules", code=community.code)
        if form.is_valid():
            try:
                if section == "rules":
                    earning.rules_set(actor=request.user, community=community, per_hour=form.values())
                elif section == "multipliers":
                    earning.multipliers_set(actor=request.user, community=community, percents=form.values())
                else:
                    earning.policy_set(actor=request.user, community=community, **form.values())
            except LinliError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Saved."))
                return redirect("points:office_rules", code=community.code)
    return render(request, "points/office_rules.html", {
        "community": community, "forms": forms, "editable": editable,
    })


def home_actions(user) -> list[tuple[str, str]]:
    """The ``community.home_actions`` hook: "My points (N)" for an account linked to a resident
    that has a points account (one query on the resident's account row)."""
    resident_id = getattr(getattr(user, "resident", None), "pk", None) if user.is_authenticated else None
    if resident_id is None:
        return []
    balance = Account.objects.filter(resident_id=resident_id).values_list("balance", flat=True).first()
    if balance is None:
        return []
    return [(_("My points (%(points)s)") % {"points": balance}, reverse("points:mine"))]
