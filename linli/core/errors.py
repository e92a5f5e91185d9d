"""Errors a user can cause: a code, a translated message and, where it applies, a field."""

from __future__ import annotations


class LinliError(Exception):
    code = "error"

    def __init__(self, message, *, code: str | None = None, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.field = field

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message), "field": self.field}


class PermissionDenied(LinliError):
    code = "permission_denied"


class NotFound(LinliError):
    code = "not_found"


class InvalidInput(LinliError):
    code = "invalid"
