"""What the pages of the voting engine and the apps above it share (docs/voting.md)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from linli.core.errors import LinliError


def refuse(request, error: LinliError, *, back: str | None = None) -> HttpResponse:
    """The refusal page (``voting/refused.html``) with the error's status: 403 for a closed
    phase or a permission, 400 for invalid input, 409 for a conflict (already voted, a vote
    not open). ``back``: where the link back goes (default: the page that was asked for)."""
    return render(request, "voting/refused.html", {
        "message": error.message, "code": error.code, "back": back or request.path,
    }, status=error.status)
