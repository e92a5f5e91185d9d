"""Partners where points are spent, their terminals' keys, and who may work which counter
(docs/points.md, "Catalogue, partners and redemption").

A partner (the canteen, a barber, a shop) belongs to one community. Its counter is worked by the
staff of its organisation (``unit_staff`` of ``Partner.organisation``) and by the community's
office (admin, worker); a terminal at the counter may instead carry a key. A key reads
``pk_<9 characters>_<32 characters>``: the prefix is stored in clear so the office can name a key,
the whole key only as its SHA-256; the plaintext is shown once, when the key is made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community.models import Community, Organisation
from linli.community.scope import scope_of
from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied

from .models import Partner, PartnerKey

KEY_PREFIX = "pk_"
PREFIX_LENGTH = 12                       # "pk_" + 9 characters: what PartnerKey.prefix holds
SECRET_LENGTH = 32
KEY_LENGTH = PREFIX_LENGTH + 1 + SECRET_LENGTH
MAX_NAME = 80
_ALPHABET = string.ascii_lowercase + string.digits


# --- who may ----------------------------------------------------------------------------------


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)


def may_manage(user, community) -> bool:
    """The catalogue, partners, keys and settlement of a community: its admin and workers."""
    return community is not None and _signed_in(user) and community.pk in scope_of(user).worker_communities


def may_work_counter(user, partner: Partner) -> bool:
    """A partner's counter: the community's office, or staff of the partner's organisation."""
    if partner is None or not _signed_in(user):
        return False
    if may_manage(user, partner.community):
        return True
    return partner.organisation_id is not None and partner.organisation_id in scope_of(user).organisations


def may_read_settlement(user, partner: Partner) -> bool:
    """A partner's monthly settlement: the office (which closes it) and the partner's own staff (read)."""
    return may_work_counter(user, partner)


def counter_partners(user, community=None):
    """The active partners whose counter ``user`` may work (in ``community``, when given)."""
    if not _signed_in(user):
        return Partner.objects.none()
    scope = scope_of(user)
    query = Q(community_id__in=scope.worker_communities) | Q(organisation_id__in=scope.organisations)
    partners = Partner.objects.filter(query, active=True)
    if community is not None:
        partners = partners.filter(community=community)
    return partners.select_related("community").order_by("name", "id")


def _require_manage(actor, community):
    if not may_manage(actor, community):
        raise PermissionDenied(_("Only the community's office manages partners and the catalogue."),
                               code="not_office")


# --- partners ---------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give a name."), code="name", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(_("A name has at most %(n)d characters.") % {"n": MAX_NAME}, code="name", field="name")
    return name


@transaction.atomic
def partner_create(*, actor, community, name: str, kind: str, organisation: Organisation | None = None) -> Partner:
    """A new partner of ``community``; ``organisation`` is whose staff work its counter."""
    _require_manage(actor, community)
    name = _clean_name(name)
    if kind not in Partner.Kind.values:
        raise InvalidInput(_("Choose the kind of partner."), code="kind", field="kind")
    if organisation is not None and organisation.street_id != community.street_id:
        raise InvalidInput(_("This organisation is not in the community's street."), code="organisation",
                           field="organisation")
    partner = Partner.objects.create(community=community, name=name, kind=kind, organisation=organisation)
    events.record(actor=actor, verb="points.partner_created", target=partner, community=community,
                  data={"kind": kind})
    return partner


@transaction.atomic
def partner_set_active(*, actor, partner: Partner, active: bool) -> Partner:
    """Open or close a partner: a closed one's items cannot be redeemed."""
    _require_manage(actor, partner.community)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if partner.active != bool(active):
        partner.active = bool(active)
        partner.save(update_fields=["active"])
        events.record(actor=actor, verb="points.partner_updated", target=partner, community=partner.community,
                      data={"active": partner.active})
    return partner


# --- keys -------------------------------------------------------------------------------------


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LENGTH - len(KEY_PREFIX)))
    return prefix, f"{prefix}_{secrets.token_urlsafe(24)}"  # 24 bytes → 32 characters


@transaction.atomic
def key_create(*, actor, partner: Partner, name: str) -> tuple[PartnerKey, str]:
    """A key for one of the partner's terminals. Returns (key row, plaintext); the plaintext is
    stored nowhere and cannot be shown again."""
    _require_manage(actor, partner.community)
    name = _clean_name(name)
    for attempt in range(5):
        prefix, plaintext = _new_key()
        try:
            with transaction.atomic():
                key = PartnerKey.objects.create(partner=partner, name=name, prefix=prefix, key_hash=_hash(plaintext))
            break
        except IntegrityError:  # the prefix was taken: draw another
            if attempt == 4:
                raise
    events.record(actor=actor, verb="points.key_created", target=key, community=partner.community,
                  data={"prefix": key.prefix, "partner": partner.pk})
    return key, plaintext


@transaction.atomic
def key_revoke(*, actor, key: PartnerKey) -> PartnerKey:
    """Stop a key working at once. Revoking a revoked key changes nothing."""
    key = PartnerKey.objects.select_for_update().select_related("partner__community").get(pk=key.pk)
    _require_manage(actor, key.partner.community)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        events.record(actor=actor, verb="points.key_revoked", target=key, community=key.partner.community,
                      data={"prefix": key.prefix, "partner": key.partner_id})
    return key


def authenticate(plaintext: str | None) -> PartnerKey | None:
    """The live key this plaintext is, or None (missing, malformed, unknown, wrong, revoked, or its
    partner closed)."""
    if not plaintext or not isinstance(plaintext, str) or len(plaintext) != KEY_LENGTH:
        return None
    if not plaintext.startswith(KEY_PREFIX) or plaintext[PREFIX_LENGTH] != "_":
        return None
    key = (PartnerKey.objects.select_related("partner__community")
           .filter(prefix=plaintext[:PREFIX_LENGTH]).first())
    if key is None:
        hmac.compare_digest(_hash(plaintext), "0" * 64)  # as long as a wrong secret
        return None
    if not hmac.compare_digest(_hash(plaintext), key.key_hash) or key.revoked_at is not None:
        return None
    if not key.partner.active:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        # At most one write a minute per key: the office sees when a terminal was last used.
        PartnerKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def console_links(user) -> list[tuple[str, str]]:
    """The staff console's links (``community.console_links``): the office's partners and
    catalogue per community it runs, and each counter the account works."""
    if not _signed_in(user):
        return []
    links = []
    for community in Community.objects.filter(pk__in=scope_of(user).worker_communities).order_by("code"):
        links.append((_("Points: partners and catalogue (%(community)s)") % {"community": community.name},
                      reverse("points:office", kwargs={"code": community.code})))
    for partner in counter_partners(user):
        links.append((_("Points counter: %(partner)s") % {"partner": partner.name},
                      f"{reverse('points:counter', kwargs={'code': partner.community.code})}?partner={partner.pk}"))
    return links
