from django.urls import reverse

from linli.core.registry import Message

from .models import Parcel


def messages(events):
    parcels = Parcel.objects.in_bulk([int(e.target_id) for e in events if e.target_id.isdigit()])
    for event in events:
        parcel = parcels.get(int(event.target_id)) if event.target_id.isdigit() else None
        if parcel is None:
            continue
        if event.verb == "parcel.received":
            yield event, Message([parcel.recipient_id], f"Parcel {parcel.code} is waiting for you",
                                 "Collect it at the service centre within a week.", url=reverse("parcels:mine"))
