"""The pages of the catalogue, the counter, the office's catalogue and keys, and the monthly
settlement (docs/points.md, "Catalogue, partners and redemption").

- ``points:catalogue`` (``/points/catalogue/``): a resident's community's catalogue, large and
  plain; choosing an item opens one confirm step, then the item is redeemed online.
- ``points:my_qr`` (``/points/me/qr``): the resident's counter code as an SVG QR code. It
  rotates every 30 s; a tiny script reloads the page as the code turns over, and a link does
  the same without script.
- ``points:counter`` (``/points/<code>/counter/``): the partner's cashier (the partner's staff
  or the office) types or scans the resident's code, picks the item and the quantity; the
  answer shows the resident masked, the item and the balance after, or the refusal in words.
- ``points:office`` (``/points/<code>/office/``) and its forms: partners, the catalogue, stock,
  terminal keys (a new key is shown once).
- ``points:settlement`` (``/points/<code>/office/settlement/``): per partner and month, the
  redemptions, their total, a CSV, and "close the month" (once).

Views parse, authorise (:mod:`linli.points.partners`), call one service and render; a
refusal is shown in words with its status.
"""

from __future__ import annotations

import csv
import datetime as dt
import secrets

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from linli.community.models import Community, Organisation
from linli.community.scope import scope_of
from linli.core.errors import InvalidInput, LinliError, PermissionDenied
from linli.core.web import no_store

from . import catalogue, partners, redeem as redeeming, tokens
from .models import Item, Partner, PartnerKey, Redemption

NONCE_LENGTH = 32


def _refuse(request, error: LinliError, *, back: str, template: str = "points/catalogue_refused.html"):
    return render(request, template, {"message": error.message, "code": error.code, "back": back},
                  status=error.status)


def _own_resident(request):
    resident = getattr(request.user, "resident", None)
    if resident is None or scope_of(request.user).resident_id is None:
        return None
    return resident


def _masked(resident) -> str:
    """The resident as the counter shows them: a masked name, never the full one."""
    return resident.name.masked if resident.name else ""


def _nonce() -> str:
    return secrets.token_hex(NONCE_LENGTH // 2)


def _idempotency(request, nonce: str) -> tuple[str, str] | None:
    """A form's one-time number as an idempotency key: a double tap redeems once."""
    nonce = (nonce or "").strip()
    if len(nonce) != NONCE_LENGTH or not all(c in "0123456789abcdef" for c in nonce):
        return None
    return f"points.web:user:{request.user.pk}", nonce


# --- the resident's catalogue -------------------------------------------------------------------


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def catalogue_page(request):
    resident = _own_resident(request)
    if resident is None:
        return _refuse(request, PermissionDenied(_("Points belong to residents: this account is not linked to one."),
                                                 code="not_resident"), back="/")
    back = reverse("points:catalogue")
    items = list(catalogue.items_for(resident.community))
    balance = redeeming.balance_of(resident)
    if request.method == "POST":
        item = next((i for i in items if str(i.pk) == request.POST.get("item", "")), None)
        if item is None:
            return _refuse(request, InvalidInput(_("There is no such item in the catalogue."), code="unknown_item"),
                           back=back)
        try:
            quantity = int(request.POST.get("quantity", "1"))
        except ValueError:
            quantity = 0
        if request.POST.get("step") != "redeem":
            return render(request, "points/catalogue_confirm.html", {
                "item": item, "quantity": quantity if 1 <= quantity <= redeeming.MAX_QUANTITY else 1,
                "balance": balance, "nonce": _nonce(), "max_quantity": redeeming.MAX_QUANTITY})
        try:
            redemption, _created = redeeming.redeem(
                actor=request.user, resident=resident, item=item, quantity=quantity, channel="online",
                idempotency=_idempotency(request, request.POST.get("nonce", "")))
        except LinliError as error:
            return _refuse(request, error, back=back)
        return render(request, "points/catalogue_done.html", {
            "redemption": redemption, "balance": redeeming.balance_of(resident)})
    return render(request, "points/catalogue.html", {"items": items, "balance": balance})


# --- the resident's counter code ----------------------------------------------------------------


def _qr_svg(token: str) -> str:
    qr = segno.make(token, error="m")
    return qr.svg_inline(scale=8, border=4, dark="#000", light="#fff", omitsize=True)


@login_required
@no_store
def my_qr(request):
    resident = _own_resident(request)
    if resident is None:
        return _refuse(request, PermissionDenied(_("Points belong to residents: this account is not linked to one."),
                                                 code="not_resident"), back="/")
    token = tokens.resident_token(resident)
    return render(request, "points/my_qr.html", {
        "token": token, "svg": _qr_svg(token), "seconds_left": tokens.seconds_left(),
        "balance": redeeming.balance_of(resident)})


# --- the partner's counter ----------------------------------------------------------------------


def _community(code: str) -> Community:
    community = Community.objects.select_related("street").filter(code=code).first()
    if community is None:
        raise Http404
    return community


class CounterForm(forms.Form):
    resident_qr = forms.CharField(label=gettext_lazy("The resident's code"), max_length=tokens.MAX_TOKEN_LENGTH,
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True,
                                                                "inputmode": "text", "class": "big"}),
                                  help_text=gettext_lazy("Scan the code on the resident's phone, or type it."))
    item = forms.ChoiceField(label=gettext_lazy("Item"), widget=forms.RadioSelect)
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, max_value=redeeming.MAX_QUANTITY,
                                  initial=1)
    nonce = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = {str(i.pk): i for i in items}
        self.fields["item"].choices = [
            (str(i.pk), _("%(name)s — %(points)d points") % {"name": i.name, "points": i.points}) for i in items]


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def counter(request, code: str):
    community = _community(code)
    choices = list(partners.counter_partners(request.user, community))
    if not choices:
        raise Forbidden(_("You do not work a partner's counter in this community."))
    partner = next((p for p in choices if str(p.pk) == (request.POST.get("partner") or request.GET.get("partner"))),
                   choices[0])
    items = list(catalogue.items_for(community).filter(partner=partner))
    result = error = None
    if request.method == "POST":
        form = CounterForm(request.POST, items=items)
        if form.is_valid():
            item = form.items[form.cleaned_data["item"]]
            try:
                resident = tokens.resident_from_token(community, form.cleaned_data["resident_qr"])
                redemption, _created = redeeming.redeem(
                    actor=request.user, resident=resident, item=item, quantity=form.cleaned_data["quantity"],
                    channel="counter", idempotency=_idempotency(request, form.cleaned_data["nonce"]))
                result = {"who": _masked(resident), "item": item,
                          "quantity": redemption.quantity, "points": redemption.points,
                          "balance": redeeming.balance_of(resident)}
            except LinliError as exc:
                error = exc
        form = CounterForm(initial={"nonce": _nonce(), "quantity": 1,
                                    "item": request.POST.get("item")}, items=items) if result else form
        if not result:
            form.data = form.data.copy()
            form.data["nonce"] = _nonce()
            form.data["resident_qr"] = ""
    else:
        form = CounterForm(initial={"nonce": _nonce(), "quantity": 1}, items=items)
    status = error.status if error is not None else (400 if request.method == "POST" and not result else 200)
    return render(request, "points/counter.html", {
        "community": community, "partner": partner, "partners": choices, "form": form, "items": items,
        "result": result, "error": error,
        "recent": [{"at": r.created_at, "item": r.item.name, "quantity": r.quantity, "points": r.points,
                    "who": _masked(r.resident), "status": r.get_status_display(),
                    "cancel_url": (reverse("points:counter_cancel", args=[community.code, r.pk])
                                   if redeeming.may_cancel_now(r) else "")}
                   for r in redeeming.recent_at_counter(partner)],
    }, status=status)


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why is it cancelled?"), max_length=200,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}),
                             help_text=gettext_lazy("For example: the wrong item was chosen. The resident sees "
                                                    "the reason on their statement; do not write names or numbers."))


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def counter_cancel(request, code: str, pk: int):
    """Cancel one of the counter's redemptions (a mistake at the till): the points go back to the
    resident and the stock to the shelf. GET asks for the reason, POST cancels; the counter's staff
    and the office only, not once the month is settled."""
    community = _community(code)
    redemption = get_object_or_404(Redemption.objects.select_related("partner", "item", "resident"),
                                   pk=pk, partner__community=community)
    if not partners.may_work_counter(request.user, redemption.partner):
        raise Forbidden(_("You do not work this partner's counter."))
    back = f"{reverse('points:counter', args=[community.code])}?partner={redemption.partner_id}"
    form = CancelForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            redeeming.cancel(actor=request.user, redemption=redemption, reason=form.cleaned_data["reason"])
        except LinliError as exc:
            error = exc
        else:
            messages.success(request, _("Cancelled: %(points)s points went back to %(who)s.")
                             % {"points": redemption.points, "who": _masked(redemption.resident)})
            return redirect(back)
    status = error.status if error is not None else (400 if request.method == "POST" else 200)
    return render(request, "points/counter_cancel.html", {
        "community": community, "redemption": redemption, "who": _masked(redemption.resident), "form": form,
        "error": error, "back": back,
    }, status=status)


# --- the office: partners, catalogue, stock, keys -----------------------------------------------


def _office(request, code: str) -> Community:
    community = _community(code)
    if not partners.may_manage(request.user, community):
        raise Forbidden(_("Only the community's office manages partners and the catalogue."))
    return community


class PartnerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Partner.Kind.choices)
    organisation = forms.ModelChoiceField(label=gettext_lazy("Organisation whose staff work the counter"),
                                          queryset=Organisation.objects.none(), required=False)

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(street_id=community.street_id).order_by("name")


class ItemForm(forms.Form):
    partner = forms.ModelChoiceField(label=gettext_lazy("Partner"), queryset=Partner.objects.none())
    code = forms.SlugField(label=gettext_lazy("Code"), max_length=32)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Item.Kind.choices)
    points = forms.IntegerField(label=gettext_lazy("Points"), min_value=1, max_value=catalogue.MAX_POINTS)
    stock = forms.IntegerField(label=gettext_lazy("Stock"), min_value=0, max_value=catalogue.MAX_STOCK, required=False,
                               help_text=gettext_lazy("Empty: unlimited."))

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.filter(community=community).order_by("name")


class KeyForm(forms.Form):
    partner = forms.ModelChoiceField(label=gettext_lazy("Partner"), queryset=Partner.objects.none())
    name = forms.CharField(label=gettext_lazy("Terminal"), max_length=80,
                           help_text=gettext_lazy("Which device will use the key, e.g. the canteen's till."))

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.filter(community=community, active=True).order_by("name")


def _office_page(request, community, *, partner_form=None, item_form=None, key_form=None, new_key=None,
                 status=200):
    return render(request, "points/office.html", {
        "community": community,
        "partners": Partner.objects.filter(community=community).select_related("organisation").order_by("name"),
        "items": catalogue.items_for(community, include_inactive=True),
        "keys": PartnerKey.objects.filter(partner__community=community).select_related("partner")
        .order_by("-created_at"),
        "partner_form": partner_form or PartnerForm(community=community),
        "item_form": item_form or ItemForm(community=community),
        "key_form": key_form or KeyForm(community=community),
        "new_key": new_key,
    }, status=status)


@login_required
@no_store
def office(request, code: str):
    return _office_page(request, _office(request, code))


def _form_error(form, error: LinliError):
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


@login_required
@no_store
@require_POST
def office_partner_create(request, code: str):
    community = _office(request, code)
    form = PartnerForm(request.POST, community=community)
    if form.is_valid():
        try:
            partners.partner_create(actor=request.user, community=community, name=form.cleaned_data["name"],
                                    kind=form.cleaned_data["kind"], organisation=form.cleaned_data["organisation"])
        except LinliError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("The partner is added."))
            return redirect("points:office", code=community.code)
    return _office_page(request, community, partner_form=form, status=400)


@login_required
@no_store
@require_POST
def office_item_create(request, code: str):
    community = _office(request, code)
    form = ItemForm(request.POST, community=community)
    if form.is_valid():
        data = form.cleaned_data
        try:
            catalogue.item_create(actor=request.user, community=community, partner=data["partner"], code=data["code"],
                                  name=data["name"], kind=data["kind"], points=data["points"], stock=data["stock"],
                                  description=data["description"])
        except LinliError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("The item is in the catalogue."))
            return redirect("points:office", code=community.code)
    return _office_page(request, community, item_form=form, status=400)


@login_required
@no_store
@require_POST
def office_item_update(request, code: str, pk: int):
    community = _office(request, code)
    item = get_object_or_404(Item, pk=pk, community=community)
    try:
        if "stock_add" in request.POST:
            try:
                quantity = int(request.POST.get("stock_add") or "0")
            except ValueError:
                quantity = 0
            catalogue.stock_add(actor=request.user, item=item, quantity=quantity)
            messages.success(request, _("The stock is updated."))
        elif request.POST.get("action") in ("withdraw", "offer"):
            catalogue.item_update(actor=request.user, item=item, active=request.POST["action"] == "offer")
            messages.success(request, _("The item is updated."))
        elif "points" in request.POST:
            try:
                points = int(request.POST.get("points") or "0")
            except ValueError:
                points = 0
            catalogue.item_update(actor=request.user, item=item, points=points)
            messages.success(request, _("The item is updated."))
    except LinliError as error:
        messages.error(request, str(error.message))
    return redirect("points:office", code=community.code)


@login_required
@no_store
@require_POST
def office_key_create(request, code: str):
    community = _office(request, code)
    form = KeyForm(request.POST, community=community)
    if form.is_valid():
        try:
            key, plaintext = partners.key_create(actor=request.user, partner=form.cleaned_data["partner"],
                                                 name=form.cleaned_data["name"])
        except LinliError as error:
            _form_error(form, error)
        else:
            return _office_page(request, community, new_key={"key": key, "plaintext": plaintext})
    return _office_page(request, community, key_form=form, status=400)


@login_required
@no_store
@require_POST
def office_key_revoke(request, code: str, pk: int):
    community = _office(request, code)
    key = get_object_or_404(PartnerKey, pk=pk, partner__community=community)
    partners.key_revoke(actor=request.user, key=key)
    messages.success(request, _("The key no longer works."))
    return redirect("points:office", code=community.code)


# --- the monthly settlement ---------------------------------------------------------------------


def _month(value: str | None) -> tuple[int, int]:
    if value:
        try:
            day = dt.datetime.strptime(value, "%Y-%m")
            return day.year, day.month
        except ValueError:
            pass
    today = timezone.localdate()
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.year, last.month


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def settlement(request, code: str):
    community = _community(code)
    choices = [p for p in Partner.objects.filter(community=community).order_by("name", "id")
               if partners.may_read_settlement(request.user, p)]
    if not choices:
        raise Forbidden(_("You may not read this community's settlements."))
    wanted = request.POST.get("partner") or request.GET.get("partner")
    partner = next((p for p in choices if str(p.pk) == wanted), choices[0])
    year, month = _month(request.POST.get("month") or request.GET.get("month"))
    may_close = partners.may_manage(request.user, community)
    if request.method == "POST":
        if not may_close:
            raise Forbidden(_("Only the community's office settles with partners."))
        try:
            redeeming.settle_month(actor=request.user, partner=partner, year=year, month=month)
        except LinliError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The month is closed with the partner."))
        return redirect(f"{reverse('points:settlement', args=[community.code])}?partner={partner.pk}"
                        f"&month={year:04d}-{month:02d}")
    result = redeeming.settlement(partner, year, month)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (f'attachment; filename="settlement-{partner.pk}-{year:04d}-{month:02d}.csv"')
        response.write("\ufeff")  # Excel opens UTF-8 with its BOM
        writer = csv.writer(response)
        writer.writerow(["id", "time", "item", "quantity", "points", "channel"])
        for r in result.redemptions:
            writer.writerow([r.pk, timezone.localtime(r.created_at).isoformat(timespec="minutes"), r.item.code,
                             r.quantity, r.points, r.channel])
        writer.writerow(["total", "", "", "", result.total, ""])
        return response
    months = []
    first = timezone.localdate().replace(day=1)
    for _i in range(12):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        months.append(f"{first.year:04d}-{first.month:02d}")
    return render(request, "points/settlement.html", {
        "community": community, "partner": partner, "partners": choices, "result": result,
        "month_value": f"{year:04d}-{month:02d}", "months": months, "may_close": may_close,
        "month_over": redeeming.month_bounds(year, month)[1] <= timezone.now(),
    })
