"""Reads for the inbox: always the signed-in user's own notifications."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from .models import Notification


def inbox(user) -> QuerySet[Notification]:
    """The user's notifications: unread first, then read ones; newest first within each."""
    return (Notification.objects.filter(user=user).select_related("event")
            .alias(read_rank=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1),
                                  output_field=IntegerField()))
            .order_by("read_rank", "-created_at", "-id"))


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
