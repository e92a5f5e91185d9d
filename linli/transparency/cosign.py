"""Witnesses and their cosignatures (C2SP tlog-cosignature, cosignature/v1).

A witness (the street office) is registered for a community's log with its name and its
cosignature verifier key (``name+<key id>+base64(0x04 ‖ public key)``, which
:func:`linli.transparency.witness.witness_verifier_key` derives from the witness's key file). It runs :func:`linli.transparency.witness.run`, which
checks that the log only grew since the checkpoint it last saw and posts one signature line to
``POST /disclosure/<code>/log/cosignature``. :func:`accept_cosignature` stores that line if it
comes from a registered, active witness and verifies over a checkpoint this log signed; the
served checkpoint then carries it (``selectors.served_checkpoint``) and the board says
"witnessed by … at …" (``selectors.witnessed``). docs/transparency.md, "Witnesses and
independent checks".
"""

from __future__ import annotations

import base64
import binascii
import struct
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.community.scope import scope_of
from linli.core import events, registry
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.signednote import (
    ALG_COSIGNATURE_V1,
    SIG_PREFIX,
    NoteError,
    Signature,
    Verifier,
    is_valid_name,
    parse_verifier,
)

from .models import Checkpoint, Cosignature, Log, Witness

MAX_LINE = 1000  # a cosignature line is about 130 characters; the view refuses larger bodies
RECENT = 32  # checkpoints tried for a line that does not name its size (bounds the work per POST)

registry.register_event("transparency.cosigned", gettext_lazy("cosigned the transparency log"))
registry.register_event("transparency.witness_added", gettext_lazy("registered a witness of the log"))
registry.register_event("transparency.witness_deactivated", gettext_lazy("retired a witness of the log"))


def _log(community) -> Log:
    log = Log.objects.filter(community=community).first()
    if log is None:
        raise NotFound(_("This community has no transparency log yet."))
    return log


def parse_line(line: str) -> Signature:
    """One signature line ``— <name> base64(key id ‖ 8-byte time ‖ signature)``, with or without
    its final newline. Raises InvalidInput."""
    text = line[:-1] if line.endswith("\n") else line
    bad = InvalidInput(_("This is not a cosignature line."), code="malformed")
    if len(text) > MAX_LINE or "\n" in text or "\r" in text or not text.startswith(SIG_PREFIX):
        raise bad
    name, sep, b64 = text[len(SIG_PREFIX):].partition(" ")
    if not sep or not is_valid_name(name):
        raise bad
    try:
        blob = base64.b64decode(b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise bad from None
    if base64.b64encode(blob).decode("ascii") != b64 or len(blob) != 4 + 8 + 64:
        raise bad
    return Signature(name, blob[:4], blob[4:])


def _note_text(note: str) -> str:
    """The checkpoint text a signed note carries (up to and including the blank line's newline)."""
    return note[: note.rfind("\n\n") + 1]


@transaction.atomic
def accept_cosignature(*, community, line: str, size: int | None = None) -> Cosignature:
    """Store a witness's cosignature of one of this log's checkpoints; one event
    ``transparency.cosigned``. ``size`` (optional) names the checkpoint; without it the line is
    tried against the log's ``RECENT`` latest checkpoints, newest first. A witness that cosigns
    the same checkpoint again gets its first cosignature back (nothing new is written: the
    served note carries one line per witness). Raises NotFound (no log, no checkpoint of that size) or InvalidInput
    (malformed line, unknown or retired witness, a signature that does not verify)."""
    sig = parse_line(line)
    log = _log(community)
    witness = Witness.objects.filter(log=log, name=sig.name, active=True).first()
    verifier = _witness_verifier(witness)
    if verifier is None or verifier.key_id != sig.key_id:
        raise InvalidInput(_("This witness is not registered for this log."), code="unknown_witness")
    checkpoints = Checkpoint.objects.filter(log=log).order_by("-size")
    if size is not None:
        checkpoints = checkpoints.filter(size=size)
        if not checkpoints.exists():
            raise NotFound(_("This log signed no checkpoint of that size."))
    elif not checkpoints.exists():
        raise NotFound(_("This log has not signed a checkpoint yet."))
    checkpoint = next((cp for cp in checkpoints.only("id", "size", "note")[:RECENT]
                       if verifier.verify(_note_text(cp.note).encode("utf-8"), sig.raw)), None)
    if checkpoint is None:
        raise InvalidInput(_("The cosignature does not verify over a checkpoint of this log."),
                           code="bad_signature")
    existing = Cosignature.objects.filter(checkpoint=checkpoint, witness=witness).first()
    if existing is not None:
        return existing
    try:
        when = datetime.fromtimestamp(struct.unpack(">Q", sig.raw[:8])[0], tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput(_("The cosignature's time is out of range."), code="bad_time") from None
    try:
        with transaction.atomic():
            cosignature = Cosignature.objects.create(checkpoint=checkpoint, witness=witness,
                                                     line=sig.line(), timestamp=when)
    except IntegrityError:  # the same witness's line for this checkpoint arrived just now
        return Cosignature.objects.get(checkpoint=checkpoint, witness=witness)
    events.record(actor=None, verb="transparency.cosigned", target=cosignature, community=community,
                  data={"witness": witness.name, "size": checkpoint.size})
    return cosignature


def _witness_verifier(witness: Witness | None) -> Verifier | None:
    if witness is None:
        return None
    try:
        verifier = parse_verifier(witness.verifier_key)
    except NoteError:
        return None
    return verifier if verifier.alg == ALG_COSIGNATURE_V1 and verifier.name == witness.name else None


def _check_admin(actor, community) -> None:
    """``actor`` None is the command line (the installation's operator); a person must be an
    administrator of this community."""
    if actor is not None and community.pk not in scope_of(actor).admin_communities:
        raise PermissionDenied(_("Only the community's administrators register witnesses."))


@transaction.atomic
def add_witness(*, actor, community, name: str, verifier_key: str) -> Witness:
    """Register (or re-activate with a new key) a witness of the community's log; one event
    ``transparency.witness_added``. ``verifier_key`` is a cosignature/v1 verifier key whose name
    is ``name``. Raises PermissionDenied, NotFound (no log yet) or InvalidInput."""
    _check_admin(actor, community)
    name = (name or "").strip()
    try:
        verifier = parse_verifier((verifier_key or "").strip())
    except NoteError:
        raise InvalidInput(_("This is not a valid verifier key."), code="bad_key",
                           field="verifier_key") from None
    if verifier.alg != ALG_COSIGNATURE_V1:
        raise InvalidInput(_("A witness needs a cosignature key (type 0x04), not a signing key."),
                           code="bad_key", field="verifier_key")
    if verifier.name != name:
        raise InvalidInput(_("The key's name must be the witness's name."), code="bad_key",
                           field="name")
    log = _log(community)
    witness = Witness.objects.select_for_update().filter(log=log, name=name).first()
    if witness is None:
        witness = Witness.objects.create(log=log, name=name, verifier_key=str(verifier), active=True)
    else:
        Witness.objects.filter(pk=witness.pk).update(verifier_key=str(verifier), active=True)
        witness.refresh_from_db()
    events.record(actor=actor, verb="transparency.witness_added", target=witness, community=community,
                  data={"witness": name, "key_id": verifier.key_id.hex()})
    return witness


@transaction.atomic
def deactivate_witness(*, actor, community, name: str) -> Witness:
    """Retire a witness: its cosignatures stay, new ones are refused; one event
    ``transparency.witness_deactivated``."""
    _check_admin(actor, community)
    witness = Witness.objects.select_for_update().filter(log=_log(community), name=name).first()
    if witness is None:
        raise NotFound(_("No such witness."))
    Witness.objects.filter(pk=witness.pk).update(active=False)
    witness.refresh_from_db()
    events.record(actor=actor, verb="transparency.witness_deactivated", target=witness,
                  community=community, data={"witness": name})
    return witness
