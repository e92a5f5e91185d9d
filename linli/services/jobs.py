"""The bookings' periodic jobs (registered in apps.py; docs/services.md, "Jobs").

- ``services.mark_no_shows`` (hourly): bookings still "booked" two hours after their slot ended
  become no-shows.
- ``services.remind`` (hourly): each booked resident is reminded once, the day before.
- ``services.promote_waiting`` (hourly): waiting bookings move up where held priority places
  were released.
"""

from __future__ import annotations

from . import bookings


def mark_no_shows() -> dict:
    return {"no_shows": bookings.mark_no_shows()}


def remind() -> dict:
    return {"reminded": bookings.remind()}


def promote_waiting() -> dict:
    return {"promoted": bookings.promote_waiting()}
