"""The web import's pages: upload → preview (masked) → confirm. See docs/import.md.

The batches themselves (what an upload keeps, who reaches a batch, how it is
applied) are in :mod:`linli.community.import_batches`; these views parse the
request, call it and render.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from linli.core import errors
from linli.core import views as core_views

from . import importer
from .import_batches import batch_file, batch_get, import_batch_apply, import_batch_preview, importable_communities
from .models import Community, ImportBatch

ERRORS_SHOWN = 200


def _batch_for(user, pk) -> ImportBatch:
    try:
        return batch_get(user, pk)
    except errors.NotFound:
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
        upload = form.cleaned_data["file"]
        try:
            batch = import_batch_preview(actor=request.user, community=form.cleaned_data["community"],
                                         filename=upload.name or "", content=_read_upload(upload))
        except errors.PermissionDenied:
            return core_views.forbidden(request)
        return redirect("import_preview", pk=batch.pk)
    return render(request, "community/import_upload.html", {
        "form": form,
        "columns": importer.COLUMNS,
        "required": importer.REQUIRED,
        "max_rows": settings.LINLI_IMPORT_MAX_ROWS,
        "max_mb": max(1, settings.LINLI_IMPORT_MAX_BYTES // (1024 * 1024)),
    })


@login_required
@never_cache
@require_http_methods(["GET"])
def import_preview(request, pk):
    batch = _batch_for(request.user, pk)
    rows = []
    content = batch_file(batch) if batch.status == ImportBatch.Status.PREVIEWED else None
    if content is not None:
        rows = importer.preview_rows(content, actions=batch.summary.get("row_actions") or {})
    found = batch.errors or []
    return render(request, "community/import_preview.html", {
        "batch": batch,
        "summary": batch.summary or {},
        "rows": rows,
        "errors": found[:ERRORS_SHOWN],
        "errors_total": (batch.summary or {}).get("errors") or len(found),
        "errors_hidden": max(0, ((batch.summary or {}).get("errors") or len(found)) - min(len(found), ERRORS_SHOWN)),
        "can_confirm": batch.status == ImportBatch.Status.PREVIEWED and content is not None,
    })


@login_required
@never_cache
@require_POST
def import_confirm(request, pk):
    batch = _batch_for(request.user, pk)
    try:
        import_batch_apply(actor=request.user, batch=batch)
    except errors.PermissionDenied:
        return core_views.forbidden(request)
    except errors.InvalidInput:
        pass  # applied already, or invalid: the preview says which
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
