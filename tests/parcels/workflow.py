from linli.core.workflow import SYSTEM, Move, Workflow

from .models import Parcel

S = Parcel.Status
RECIPIENT = "recipient"


def _may(actor, parcel, who) -> bool:
    return who == RECIPIENT and parcel.recipient_id == actor.pk


PARCEL = Workflow(
    "parcel", model=Parcel, may=_may,
    places=lambda p: {"community": p.community},
    event_data=lambda p: {"number": p.code},
    moves=[
        Move("collect", {S.RECEIVED}, S.COLLECTED, who=RECIPIENT, label="collect", verb="collected",
             message="Collected.", event_label="collected a parcel"),
        Move("send_back", {S.RECEIVED}, S.SENT_BACK, who=SYSTEM, label="send back", verb="sent_back",
             event_label="sent a parcel back"),
    ],
)
