"""The web import: upload → preview (masked) → confirm. See docs/import.md.

The uploaded file is kept sealed in ``ImportBatch.content`` only while it
waits for confirmation; it is dropped once applied, or when it turns out to
have errors. A batch is reachable only by the account that uploaded it, and
only while that account may still import into the batch's community; anyone
else gets "not found".
"""

from __future__ import annotations

import base64
import hashlib
import os

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import importer
from .models import Community, ImportBatch
from .selectors import communities_for

ERRORS_SHOWN = 200


def importable_communities(user):
    """Communities this account may import residents into."""
    ids = [c.pk for c in communities_for(user) if user.has_perm("community.import_residents", c)]
    return Community.objects.filter(pk__in=ids).order_by("code")


def _batch_for(user, pk) -> ImportBatch:
    try:
        return ImportBatch.objects.select_related("community").get(
            pk=pk, created_by=user, community__in=importable_communities(user)
        )
    except (ImportBatch.DoesNotExist, ValueError, TypeError):
        raise Http404("import")


class ImportUploadForm(forms.Form):
    community = forms.ModelChoiceField(queryset=Community.objects.none(), label=gettext_lazy("Community"),
                                       empty_label=None)
    file = forms.FileField(
        label=gettext_lazy("File (.xlsx or .csv)"),
        widget=forms.FileInput(attrs={"accept": ".xlsx,.csv,text/csv,"
                                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    )

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            importer.check_size(upload.size)
        except importer.ImportFileError as exc:
            raise forms.ValidationError(exc.errors[0]["reason"], code="too_large")
        return upload


def _read_upload(upload) -> bytes:
    return b"".join(upload.chunks())


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def import_upload(request):
    communities = importable_communities(request.user)
    if not communities.exists():
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        community = form.cleaned_data["community"]
        upload = form.cleaned_data["file"]
        content = _read_upload(upload)
        result = importer.import_residents(actor=request.user, community=community, content=content,
                                           dry_run=True, via="web")
        summary = dict(result.summary)
        summary["row_actions"] = {str(row): action for row, action in result.row_actions[:importer.PREVIEW_ROWS]}
        batch = ImportBatch.objects.create(
            community=community,
            created_by=request.user,
            filename=os.path.basename(upload.name or "")[:200],
            sha256=hashlib.sha256(content).hexdigest(),
            # Kept (sealed) only if it can be confirmed.
            content=base64.b64encode(content).decode("ascii") if result.ok else None,
            status=ImportBatch.Status.PREVIEWED if result.ok else ImportBatch.Status.INVALID,
            summary=summary,
            errors=result.errors,
        )
        return redirect("import_preview", pk=batch.pk)
    return render(request, "community/import_upload.html", {
        "form": form,
        "columns": importer.COLUMNS,
        "required": importer.REQUIRED,
        "max_rows": settings.LINLI_IMPORT_MAX_ROWS,
        "max_mb": max(1, settings.LINLI_IMPORT_MAX_BYTES // (1024 * 1024)),
    })


def _content_of(batch: ImportBatch) -> bytes | None:
    if batch.content is None:
        return None
    return base64.b64decode(batch.content.reveal())


@login_required
@never_cache
@require_http_methods(["GET"])
def import_preview(request, pk):
    batch = _batch_for(request.user, pk)
    rows = []
    content = _content_of(batch) if batch.status == ImportBatch.Status.PREVIEWED else None
    if content is not None:
        rows = importer.preview_rows(content, actions=batch.summary.get("row_actions") or {})
    errors = batch.errors or []
    return render(request, "community/import_preview.html", {
        "batch": batch,
        "summary": batch.summary or {},
        "rows": rows,
        "errors": errors[:ERRORS_SHOWN],
        "errors_total": (batch.summary or {}).get("errors") or len(errors),
        "errors_hidden": max(0, ((batch.summary or {}).get("errors") or len(errors)) - min(len(errors), ERRORS_SHOWN)),
        "can_confirm": batch.status == ImportBatch.Status.PREVIEWED and content is not None,
    })


@login_required
@never_cache
@require_POST
def import_confirm(request, pk):
    batch = _batch_for(request.user, pk)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportBatch.Status.PREVIEWED or batch.content is None:
            return redirect("import_preview", pk=batch.pk)  # already applied, or invalid
        content = _content_of(batch)
        # Validated again against the registry as it is now, then applied.
        result = importer.import_residents(actor=request.user, community=batch.community, content=content,
                                           batch=batch, via="web")
        summary = dict(result.summary)
        summary["row_actions"] = (batch.summary or {}).get("row_actions", {})
        batch.summary = summary
        batch.errors = result.errors
        batch.content = None  # the personal data of the file is not kept
        if result.ok:
            batch.status = ImportBatch.Status.APPLIED
            batch.applied_at = timezone.now()
        else:
            batch.status = ImportBatch.Status.INVALID
        batch.save()
    return redirect("import_preview", pk=batch.pk)


@login_required
@never_cache
@require_http_methods(["GET"])
def import_errors(request, pk):
    batch = _batch_for(request.user, pk)
    response = HttpResponse(importer.error_report_csv(batch.errors or []), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    return response


__all__ = ["import_upload", "import_preview", "import_confirm", "import_errors", "ImportUploadForm"]
