"""The service-hours job (docs/volunteers.md, "Service hours, approval and points").

``volunteers.close_forgotten`` (every 10 minutes): open records of activities that ended more
than 30 minutes ago are checked out at the scheduled end (``closed_automatically``).
"""

from __future__ import annotations

from .hours import close_forgotten as _close


def close_forgotten() -> dict:
    return {"closed": _close()}
