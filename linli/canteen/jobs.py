"""The canteen's periodic jobs (registered in apps.py). Each is safe to run twice or in two workers."""

from __future__ import annotations

from . import statements


def publish_statements(now=None) -> dict:
    """Daily: from the 5th of a month, last month's statement of each canteen on the board, once."""
    return statements.publish_due(now=now)
