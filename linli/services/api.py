"""The services API at ``/api/v1/services/`` (docs/services.md): one router, the parts' routers inside."""

from ninja import Router

from .api_bookings import router as bookings_router

router = Router(tags=["services"])
router.add_router("", bookings_router)
