"""Who the canteen helps: the criteria of subsidies and delivery, read from the registry
(docs/canteen.md, "Eligibility").

A criterion is a code of :data:`CRITERIA`. Each one is ONE SQL condition on ``community.Resident``
(:func:`criterion_q`): "who in the community is eligible" (:func:`eligible_residents`) is one query
over 33,000 residents, no Python loop. "Which criteria does this resident meet" (:func:`criteria_met`,
what every order asks) applies the same rules to one resident in two or three small indexed queries;
the tests check that both agree:

- ``age_60`` … ``age_90``: aged N or more in the year of ``on`` (the registry keeps the birth year).
- ``alone_elder``: a household of one person aged 60+; or the resident's own fact tag 独居老人
  (code ``alone-elder``); or a confirmed need tag 养老照护 (``elderly-care``) on a one-person household.
- ``disabled``: the resident's own tag 残疾人 (code ``disabled``).
- ``low_income``: a tag 低保 / 低保户 / 低收入 (codes ``low-income``, ``dibao``) on the resident or on
  any member of their household (低保 is granted to the household).
- ``tekun``: a tag 特困 / 特困人员 (code ``tekun``) on the resident or their household.

Tags are matched by code OR by name, as ``linli.community.needs`` does: an import derives codes from
names, so the names communities actually use count too.

Delivery (:func:`delivery_allowed`): the resident meets one of the canteen's ``delivery_criteria``, or
holds a live :class:`~linli.canteen.models.DeliveryPermit` (granted by the office: the route to staff
for someone the registry does not show as needing it). Permits are granted and revoked here too.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.community.models import HouseholdNeed, Resident
from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied

from . import rules
from .models import DeliveryPermit

CRITERIA = {
    "age_60": gettext_lazy("aged 60 or over"),
    "age_70": gettext_lazy("aged 70 or over"),
    "age_80": gettext_lazy("aged 80 or over"),
    "age_90": gettext_lazy("aged 90 or over"),
    "alone_elder": gettext_lazy("elder living alone"),
    "disabled": gettext_lazy("person with a disability"),
    "low_income": gettext_lazy("minimum living allowance (低保)"),
    "tekun": gettext_lazy("extreme hardship support (特困)"),
}
CRITERIA_ORDER = ("age_60", "age_70", "age_80", "age_90", "alone_elder", "disabled", "low_income", "tekun")

ALONE_AGE = 60
ALONE_TAG_CODES = {"alone-elder"}
ALONE_TAG_NAMES = {"独居老人"}
ALONE_NEED_CODE = "elderly-care"
DISABLED_TAG_CODES = {"disabled"}
DISABLED_TAG_NAMES = {"残疾人", "残疾"}
LOW_INCOME_TAG_CODES = {"low-income", "dibao"}
LOW_INCOME_TAG_NAMES = {"低保", "低保户", "低收入", "低收入户"}
TEKUN_TAG_CODES = {"tekun"}
TEKUN_TAG_NAMES = {"特困", "特困人员", "特困户"}

EVENTS = {
    "canteen.permit_granted": gettext_lazy("granted a canteen delivery permit"),
    "canteen.permit_revoked": gettext_lazy("revoked a canteen delivery permit"),
}


def label(code: str) -> str:
    return str(CRITERIA.get(code, code))


def choices() -> list[tuple[str, str]]:
    return [(code, CRITERIA[code]) for code in CRITERIA_ORDER]


# --- the conditions -------------------------------------------------------------------------------


def _tagged(community_id: int, codes: set[str], names: set[str]):
    """Ids of the community's residents carrying a tag matching by code or by name (a subquery)."""
    through = Resident.tags.through
    return (through.objects.filter(tag__community_id=community_id)
            .filter(Q(tag__code__in=codes) | Q(tag__name__in=names)).values("resident_id"))


def _household_tagged(community_id: int, codes: set[str], names: set[str]):
    """Ids of households one of whose members carries such a tag (a subquery)."""
    return (Resident.objects.filter(pk__in=_tagged(community_id, codes, names)).values("household_id"))


def _alone_in_household():
    """The resident is the only member of their household (a correlated NOT EXISTS on the
    household index: probed only for the rows the other conditions leave)."""
    others = Resident.objects.filter(household_id=OuterRef("household_id")).exclude(pk=OuterRef("pk"))
    return ~Exists(others)


def _confirmed_need_households(community_id: int):
    return (HouseholdNeed.objects.filter(community_id=community_id, status=HouseholdNeed.Status.CONFIRMED,
                                         category__code=ALONE_NEED_CODE, category__active=True)
            .values("household_id"))


def criterion_q(code: str, community_id: int, on: dt.date) -> Q:
    """The SQL condition on Resident for one criterion (see the module's docstring)."""
    if code.startswith("age_") and code in CRITERIA:
        return Q(birth_year__lte=on.year - int(code[4:]))
    if code == "alone_elder":
        # Each part is a list subquery computed once (the elders through the birth-year index, each
        # probed for a housemate), so the scan over the community only looks ids up in lists.
        elders_alone = (Resident.objects.filter(community_id=community_id, birth_year__lte=on.year - ALONE_AGE)
                        .filter(_alone_in_household()).values("pk"))
        needs_alone = (Resident.objects.filter(household_id__in=_confirmed_need_households(community_id))
                       .filter(_alone_in_household()).values("pk"))
        return (Q(pk__in=elders_alone) | Q(pk__in=_tagged(community_id, ALONE_TAG_CODES, ALONE_TAG_NAMES))
                | Q(pk__in=needs_alone))
    if code == "disabled":
        return Q(pk__in=_tagged(community_id, DISABLED_TAG_CODES, DISABLED_TAG_NAMES))
    if code == "low_income":
        return Q(household_id__in=_household_tagged(community_id, LOW_INCOME_TAG_CODES, LOW_INCOME_TAG_NAMES))
    if code == "tekun":
        return Q(household_id__in=_household_tagged(community_id, TEKUN_TAG_CODES, TEKUN_TAG_NAMES))
    raise InvalidInput(_("Unknown criterion."), code="criterion", field="criterion")


def _has(tags, codes: set[str], names: set[str]) -> bool:
    return any(code in codes or name in names for code, name in tags)


def criteria_met(resident, *, on: dt.date) -> set[str]:
    """The criteria the resident meets on that day: the same rules as :func:`criterion_q`, for one
    resident, in two or three small indexed queries (an order asks this; the population query and
    this one are checked against each other by the tests)."""
    age = on.year - resident.birth_year
    met = {f"age_{n}" for n in (60, 70, 80, 90) if age >= n}
    through = Resident.tags.through
    members = set(Resident.objects.filter(household_id=resident.household_id).values_list("pk", flat=True))
    single = members == {resident.pk}
    rows = list(through.objects.filter(resident__household_id=resident.household_id)
                .values_list("resident_id", "tag__code", "tag__name"))
    own = [(code, name) for rid, code, name in rows if rid == resident.pk]
    household_tags = [(code, name) for _rid, code, name in rows]
    if ((single and age >= ALONE_AGE) or _has(own, ALONE_TAG_CODES, ALONE_TAG_NAMES)
            or (single and _confirmed_need_households(resident.community_id)
                .filter(household_id=resident.household_id).exists())):
        met.add("alone_elder")
    if _has(own, DISABLED_TAG_CODES, DISABLED_TAG_NAMES):
        met.add("disabled")
    if _has(household_tags, LOW_INCOME_TAG_CODES, LOW_INCOME_TAG_NAMES):
        met.add("low_income")
    if _has(household_tags, TEKUN_TAG_CODES, TEKUN_TAG_NAMES):
        met.add("tekun")
    return met


def live_permits(canteen, *, on: dt.date):
    """The canteen's permits in force on that day."""
    return DeliveryPermit.objects.filter(canteen=canteen, revoked_at__isnull=True).filter(
        Q(until__isnull=True) | Q(until__gte=on))


def delivery_allowed(canteen, resident, *, on: dt.date) -> tuple[bool, str]:
    """(allowed, reason code): the criterion met (first of the canteen's list), ``"permit"``, or
    ``"other_community"`` / ``"not_eligible"`` when refused."""
    if resident.community_id != canteen.community_id:
        return False, "other_community"
    met = criteria_met(resident, on=on)
    for code in canteen.delivery_criteria or ():
        if code in met:
            return True, code
    if live_permits(canteen, on=on).filter(resident=resident).exists():
        return True, "permit"
    return False, "not_eligible"


def delivery_q(canteen, *, on: dt.date) -> Q:
    """The SQL condition for the canteen's delivery-eligible residents (criteria or a live permit)."""
    q = Q(pk__in=live_permits(canteen, on=on).values("resident_id"))
    for code in canteen.delivery_criteria or ():
        if code in CRITERIA:
            q |= criterion_q(code, canteen.community_id, on)
    return q


def eligible_residents(canteen, *, on: dt.date):
    """The delivery-eligible population of the canteen's community (coverage's denominator):
    one SQL query with subqueries, never a loop over residents."""
    return Resident.objects.filter(community_id=canteen.community_id).filter(delivery_q(canteen, on=on))


# --- delivery permits -----------------------------------------------------------------------------


def permit_grant(*, actor, canteen, resident, reason: str, until: dt.date | None = None) -> DeliveryPermit:
    """Let ``resident`` have meals delivered though no criterion shows it (the office only)."""
    if actor is None or not rules.may_manage(actor, canteen):
        raise PermissionDenied(_("Only the community office grants delivery permits."))
    if resident.community_id != canteen.community_id:
        raise PermissionDenied(_("This resident lives in another community."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why, in a few words."), code="reason_required", field="reason")
    if len(reason) > 200:
        raise InvalidInput(_("Keep the reason under 200 characters."), code="reason_long", field="reason")
    today = timezone.localdate()
    if until is not None and until < today:
        raise InvalidInput(_("The end date is in the past."), code="until_past", field="until")
    with transaction.atomic():
        if live_permits(canteen, on=today).filter(resident=resident).exists():
            raise InvalidInput(_("This resident already holds a delivery permit."), code="duplicate",
                               field="resident")
        permit = DeliveryPermit.objects.create(canteen=canteen, resident=resident, reason=reason,
                                               granted_by=actor, until=until)
        events.record(actor=actor, verb="canteen.permit_granted", target=permit, community=canteen.community,
                      data={"canteen": canteen.pk, "until": until.isoformat() if until else None})
    return permit


def permit_revoke(*, actor, permit: DeliveryPermit) -> DeliveryPermit:
    canteen = permit.canteen
    if actor is not None and not rules.may_manage(actor, canteen):
        raise PermissionDenied(_("Only the community office revokes delivery permits."))
    with transaction.atomic():
        updated = DeliveryPermit.objects.filter(pk=permit.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        if not updated:
            raise InvalidInput(_("This permit is already revoked."), code="revoked")
        permit.refresh_from_db()
        events.record(actor=actor, verb="canteen.permit_revoked", target=permit, community=canteen.community,
                      data={"canteen": canteen.pk})
    return permit
