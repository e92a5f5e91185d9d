"""The activities' periodic job (docs/volunteers.md, "Activities, sign-up and suggestions").

``volunteers.remind`` (hourly): each open activity that starts within the next 24 hours gets one
``volunteers.reminded`` event, once; its notify recipe tells the confirmed volunteers.
"""

from __future__ import annotations

from . import activities


def remind(now=None) -> dict:
    return {"reminded": activities.remind_due(now=now)}
