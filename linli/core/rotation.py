"""Re-encrypt every protected value under the active key, while Linli keeps serving.

Rows are processed in primary-key batches. Each row is rewritten with a
conditional UPDATE that matches its old ciphertexts, so a concurrent edit is
never overwritten: the row is skipped and picked up by the next pass. Blind
indexes are recomputed in the same UPDATE. Readers never notice, because any
key still in the ring decrypts and look-ups match the index under every key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast

from .crypto import keyring
from .fields import Protected, ProtectedField

# model label -> function(instance with plain values) -> {index column: value}
BLIND_INDEXERS: dict[str, Callable] = {}


def register_blind_indexer(label: str, fn: Callable) -> None:
    BLIND_INDEXERS[label] = fn


@dataclass
class RotationReport:
    rewritten: dict[str, int] = field(default_factory=dict)
    skipped_concurrent: int = 0
    remaining: int = 0


def protected_models():
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, ProtectedField)]
        if names:
            yield model, names


def _needs_rotation(row: dict, names: list[str], active: str) -> bool:
    return any(row[n] is not None and row[n].key_id != active for n in names)


def rotate(*, batch_size: int = 500, progress: Callable[[str, int], None] | None = None) -> RotationReport:
    ring = keyring()
    active = ring.active.key_id
    report = RotationReport()
    for model, names in protected_models():
        label = model._meta.label
        indexer = BLIND_INDEXERS.get(label)
        done = 0
        last_pk = 0
        while True:
            rows = list(
                model.objects.filter(pk__gt=last_pk).order_by("pk").values("pk", *names)[:batch_size]
            )
            if not rows:
                break
            last_pk = rows[-1]["pk"]
            with transaction.atomic():
                for row in rows:
                    if not _needs_rotation(row, names, active):
                        continue
                    updates = {}
                    plain = {}
                    for n in names:
                        value = row[n]
                        plain[n] = value.reveal() if value is not None else None
                        if value is not None:
                            f = model._meta.get_field(n)
                            # A Protected, not a str: update() would seal a str again.
                            updates[n] = Protected(token=ring.seal(plain[n], f.context),
                                                   kind=f.kind, context=f.context)
                    if indexer:
                        updates.update(indexer(plain))
                    # Match the old ciphertexts: a concurrent edit wins, we retry later.
                    # (Compared as raw text: ProtectedField itself refuses lookups.)
                    match = {f"raw_{n}": row[n].token for n in names if row[n] is not None}
                    match.update({f"{n}__isnull": True for n in names if row[n] is None})
                    updated = (
                        _raw(model.objects.filter(pk=row["pk"]), names)
                        .filter(**match)
                        .update(**updates)
                    )
                    if updated:
                        done += 1
                    else:
                        report.skipped_concurrent += 1
            if progress:
                progress(label, done)
        report.rewritten[label] = done
    report.remaining = count_not_under_active_key()
    return report


def count_not_under_active_key() -> int:
    active = keyring().active.key_id
    prefix = f"v1.{active}."
    total = 0
    for model, names in protected_models():
        q = Q()
        for n in names:
            q |= Q(**{f"{n}__isnull": False}) & ~Q(**{f"raw_{n}__startswith": prefix})
        total += _raw(model.objects.all(), names).filter(q).count()
    return total


def _raw(queryset, names):
    """Alias each protected column as its raw sealed text, for comparisons."""
    return queryset.alias(**{f"raw_{n}": Cast(n, models.TextField()) for n in names})
