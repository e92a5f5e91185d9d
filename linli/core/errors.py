"""Errors a user can cause: a code, a translated message and, where it applies, a field."""

from __future__ import annotations


class LinliError(Exception):
    """``status``: the HTTP status the JSON API answers with; ``headers()``: any it adds."""

    code = "error"
    status = 400

    def __init__(self, message, *, code: str | None = None, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.field = field

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message), "field": self.field}

    def headers(self) -> dict:
        return {}


class PermissionDenied(LinliError):
    code = "permission_denied"
    status = 403


class NotFound(LinliError):
    code = "not_found"
    status = 404


class Conflict(LinliError):
    """The request is well-formed but clashes with what is there (a reused idempotency key)."""

    code = "conflict"
    status = 409


class RateLimited(LinliError):
    """Too many requests in the current window; ``retry_after`` seconds until the next may pass."""

    code = "rate_limited"
    status = 429

    def __init__(self, message, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)}


class InvalidInput(LinliError):
    code = "invalid"
