"""Serving a case's photos to the people who may see the case, and to no one else.

Photos live under MEDIA_ROOT with random names and are never served as static
media: every request goes through the case's scope (``selectors.case_get``),
so a photo of a case one may not see is a 404, like the case itself.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from linli.core.errors import NotFound

from . import rules
from .models import Case, CasePhoto
from .selectors import case_get


def photo_response(case: Case, photo_id) -> FileResponse:
    """The stored file of one photo of an already scoped case."""
    try:
        photo = CasePhoto.objects.get(case=case, pk=int(photo_id))
        handle = photo.image.open("rb")
    except (CasePhoto.DoesNotExist, ValueError, TypeError, OverflowError, FileNotFoundError):
        raise Http404
    response = FileResponse(handle, content_type=photo.content_type)
    response["Content-Disposition"] = f'inline; filename="{case.number}-{photo.pk}.{photo.image.name.rsplit(".", 1)[-1]}"'
    # Private to this account's browser: never kept by shared caches or proxies.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_safe
@login_required
def case_photo(request, number: str, photo_id: int):
    try:
        case = case_get(request.user, number)
    except NotFound:
        raise Http404
    if rules.case_view(request.user, case) == rules.SCRUBBED:
        raise Http404  # the street supervisor reads aggregates and scrubbed text, not photos
    return photo_response(case, photo_id)
