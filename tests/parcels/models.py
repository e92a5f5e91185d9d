from django.conf import settings
from django.db import models


class Parcel(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "received"
        COLLECTED = "collected", "collected"
        SENT_BACK = "sent_back", "sent back"

    community = models.ForeignKey("community.Community", on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
