"""Volunteers, teams, the needs board, activities, sign-ups and service hours (docs/volunteers.md)."""

from django.db import models  # noqa: F401
