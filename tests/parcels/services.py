import datetime as dt

from django.db import transaction
from django.utils import timezone

from linli.core import events

from .models import Parcel
from .workflow import PARCEL

KEEP = dt.timedelta(days=7)


@transaction.atomic
def parcel_receive(*, actor, community, recipient, code: str) -> Parcel:
    parcel = Parcel.objects.create(community=community, recipient=recipient, code=code,
                                   received_at=timezone.now())
    events.record(actor=actor, verb="parcel.received", target=parcel, community=community,
                  data={"number": code})
    return parcel


def parcel_collect(*, actor, parcel: Parcel) -> Parcel:
    def apply(p, now):
        p.closed_at = now

    return PARCEL.transition(parcel, "collect", actor=actor, apply=apply)


def send_back_uncollected() -> dict:
    """The periodic job: parcels held longer than a week go back to the sender."""
    sent = 0
    for parcel in Parcel.objects.filter(status=Parcel.Status.RECEIVED, received_at__lt=timezone.now() - KEEP):
        PARCEL.transition(parcel, "send_back", actor=None, apply=lambda p, now: setattr(p, "closed_at", now))
        sent += 1
    return {"sent_back": sent}
