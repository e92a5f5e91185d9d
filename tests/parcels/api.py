from ninja import Router, Schema
from ninja.security import SessionAuth

from linli.core.api import ERRORS
from linli.core.errors import NotFound

from . import services
from .models import Parcel

router = Router(auth=SessionAuth(), tags=["parcels"])


class ParcelOut(Schema):
    code: str
    status: str


@router.get("/mine", url_name="parcels_mine", response={200: list[ParcelOut], **ERRORS})
def mine(request):
    return [ParcelOut(code=p.code, status=p.status) for p in Parcel.objects.filter(recipient=request.auth)]


@router.post("/{code}/collect", url_name="parcel_collect", response={200: ParcelOut, **ERRORS})
def collect(request, code: str):
    parcel = Parcel.objects.filter(recipient=request.auth, code=code).first()
    if parcel is None:
        raise NotFound("No such parcel.")
    parcel = services.parcel_collect(actor=request.auth, parcel=parcel)
    return ParcelOut(code=parcel.code, status=parcel.status)
