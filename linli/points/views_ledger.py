"""The office's ledger: the community's transactions, newest first, the audit, and reversal
(docs/points.md, "The ledger").

Community admins only (``may_keep_ledger``). Accounts are shown by kind and number, never by a
person's name: the page is for checking that the books hold, not for reading residents'
balances. A reversal needs a reason; it posts a new transaction (``ledger.reverse``): nothing
posted is ever edited or deleted.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from linli.community.models import Community
from linli.community.scope import scope_of
from linli.core.errors import LinliError
from linli.core.web import no_store

from . import ledger
from .audit import audit
from .models import Transaction

PER_PAGE = 50


def may_keep_ledger(user, community) -> bool:
    """The ledger page and reversals: the community's admins."""
    return (community is not None and user is not None and getattr(user, "is_authenticated", False)
            and user.is_active and community.pk in scope_of(user).admin_communities)


class ReverseForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why is this transaction reversed?"), max_length=200,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=gettext_lazy("Residents may see this reason on their statement."))


def _community(request, code: str) -> Community:
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise Http404
    if not may_keep_ledger(request.user, community):
        raise DjangoPermissionDenied
    return community


@login_required
@no_store
def office_ledger(request, code: str):
    community = _community(request, code)
    reversed_q = Transaction.objects.filter(reverses=OuterRef("pk"))
    transactions = (Transaction.objects.filter(community=community, posted=True)
                    .annotate(moved=Sum("postings__amount", filter=Q(postings__amount__gt=0)),
                              is_reversed=Exists(reversed_q))
                    .order_by("-effective_at", "-pk"))
    kind = request.GET.get("kind", "")
    if kind in Transaction.Kind.values:
        transactions = transactions.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(transactions, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "points/ledger/office_ledger.html", {
        "community": community, "page": page, "result": audit(community), "kinds": Transaction.Kind.choices,
        "kind": kind, "url_params": f"kind={kind}" if kind else "",
    })


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def office_reverse(request, code: str, pk: int):
    community = _community(request, code)
    txn = Transaction.objects.filter(community=community, pk=pk, posted=True).first()
    if txn is None:
        raise Http404
    postings = list(txn.postings.select_related("account").order_by("id"))
    form = ReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reversal = ledger.reverse(actor=request.user, transaction=txn, reason=form.cleaned_data["reason"])
        except LinliError as exc:
            form.add_error("reason" if exc.field == "reason" else None, exc.message)
        else:
            messages.success(request, _("Transaction #%(id)s was reversed by transaction #%(new)s.")
                             % {"id": txn.pk, "new": reversal.pk})
            return redirect("points:office_ledger", code=community.code)
    already = Transaction.objects.filter(reverses=txn).first()
    return render(request, "points/ledger/office_reverse.html", {
        "community": community, "txn": txn, "postings": postings, "form": form, "already": already,
        "is_reversal": txn.kind == Transaction.Kind.REVERSAL,
    })
