"""The web import's batches: an uploaded file previewed, then applied all at once. See docs/import.md.

Uploading is a dry run of :func:`linli.community.importer.import_residents`
whose verdict is kept as an :class:`~linli.community.models.ImportBatch`: with
the file sealed in it when the file can be applied (``previewed``), without it
when it has errors (``invalid``). Nothing of the registry changes, so the upload
writes no event.

Applying is the move "apply" of the :data:`IMPORT_BATCH` workflow
(linli.core.workflow): the file is validated again against the registry as it
is now and imported in the move's transaction, which writes the batch's one
event, ``import_batch.applied`` (the import's own events, ``resident.created``
… ``residents.imported``, are the registry's). A file that no longer fits the
registry is refused: the move is not made, the batch keeps the errors and drops
the file, and, as for an upload with errors, no event is written, since
nothing changed.

A batch is reachable only by the account that uploaded it, and only while that
account may still import into the batch's community; anyone else gets "not found".
"""

from __future__ import annotations

import base64
import hashlib
import os

import rules
from django.db import transaction
from django.utils.translation import gettext as _, gettext_lazy

from linli.core.errors import InvalidInput, NotFound
from linli.core.workflow import Move, Workflow

from . import importer
from .models import Community, ImportBatch
from .selectors import communities_for

Status = ImportBatch.Status

# The ``who`` of "apply": the account that uploaded the batch, while it may import there.
UPLOADER = "uploader"


def may_apply(actor, batch: ImportBatch, who: str) -> bool:
    return who == UPLOADER and rules.has_perm("community.apply_import", actor, batch)


IMPORT_BATCH = Workflow(
    "import_batch", model=ImportBatch, may=may_apply,
    places=lambda batch: {"community": batch.community},
    # Counts only: what the import did, never a row of the file.
    event_data=lambda batch: {key: (batch.summary or {}).get(key, 0)
                              for key in ("rows", "created", "updated", "unchanged")},
    moves=[
        Move("apply", {Status.PREVIEWED}, Status.APPLIED, UPLOADER, gettext_lazy("Import now"), "applied",
             event_label=gettext_lazy("applied an import")),
    ],
)


class FileRefused(InvalidInput):
    """The file no longer fits the registry: the move is not made (``result`` says why)."""

    code = "import_refused"

    def __init__(self, result: importer.ImportResult):
        super().__init__(_("The file has errors, so nothing was imported. Correct them in your file "
                           "and upload it again."))
        self.result = result


# ---------------------------------------------------------------------------
# Reads


def importable_communities(user):
    """Communities this account may import residents into."""
    ids = [c.pk for c in communities_for(user) if user.has_perm("community.import_residents", c)]
    return Community.objects.filter(pk__in=ids).order_by("code")


def batch_get(user, pk) -> ImportBatch:
    """A batch the account uploaded into a community it may still import into; NotFound otherwise."""
    try:
        return ImportBatch.objects.select_related("community").get(
            pk=pk, created_by=user, community__in=importable_communities(user)
        )
    except (ImportBatch.DoesNotExist, ValueError, TypeError):
        raise NotFound("import")


def batch_file(batch: ImportBatch) -> bytes | None:
    """The uploaded file, while the batch keeps it (until applied or found invalid)."""
    if batch.content is None:
        return None
    return base64.b64decode(batch.content.reveal())


# ---------------------------------------------------------------------------
# Writes


@transaction.atomic
def import_batch_preview(*, actor, community: Community, filename: str, content: bytes) -> ImportBatch:
    """Validate an uploaded file without writing to the registry, and keep the verdict as a batch:
    ``previewed`` with the file sealed, or ``invalid`` with its errors and without the file.
    Raises PermissionDenied when the account may not import into the community."""
    result = importer.import_residents(actor=actor, community=community, content=content, dry_run=True,
                                       via="web")
    summary = dict(result.summary)
    # What each of the first rows would become, for the preview's table.
    summary["row_actions"] = {str(row): action for row, action in result.row_actions[:importer.PREVIEW_ROWS]}
    return ImportBatch.objects.create(
        community=community,
        created_by=actor,
        filename=os.path.basename(filename or "")[:200],
        sha256=hashlib.sha256(content).hexdigest(),
        # Kept (sealed) only if it can be applied.
        content=base64.b64encode(content).decode("ascii") if result.ok else None,
        status=Status.PREVIEWED if result.ok else Status.INVALID,
        summary=summary,
        errors=result.errors,
    )


def import_batch_apply(*, actor, batch: ImportBatch) -> ImportBatch:
    """Apply a previewed batch (the move "apply"): validated again against the registry as it is
    now, then imported all at once, and the file dropped. Returns the batch as it is afterwards.

    Raises IllegalTransition when the batch is not ``previewed`` (applied already, or invalid)
    and PermissionDenied when the actor is not its uploader or may no longer import there.
    A file with errors now is not applied: the batch becomes ``invalid``, keeps the errors
    and drops the file, and nothing else is written.
    """
    row_actions = (batch.summary or {}).get("row_actions", {})

    def apply(locked: ImportBatch, now) -> None:
        # A previewed batch holds its file: import_batch_preview keeps it exactly then.
        result = importer.import_residents(actor=actor, community=locked.community, content=batch_file(locked),
                                           batch=locked, via="web")
        if not result.ok:
            raise FileRefused(result)
        locked.summary = {**result.summary, "row_actions": row_actions}
        locked.errors = []
        locked.content = None   # the personal data of the file is not kept
        locked.applied_at = now

    try:
        return IMPORT_BATCH.transition(batch, "apply", actor=actor, apply=apply)
    except FileRefused as refused:
        return _refuse(batch, refused.result, row_actions)


@transaction.atomic
def _refuse(batch: ImportBatch, result: importer.ImportResult, row_actions: dict) -> ImportBatch:
    """Keep why the file was refused, and drop it: a file that cannot be applied is not kept."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == Status.PREVIEWED:
        batch.summary = {**result.summary, "row_actions": row_actions}
        batch.errors = result.errors
        batch.content = None
        batch.status = Status.INVALID
        batch.save(update_fields=["summary", "errors", "content", "status"])
    return batch
