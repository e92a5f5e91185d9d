"""The points API at ``/api/v1/points/`` (docs/points.md): one router, the parts' routers inside."""

from ninja import Router

from .api_redeem import router as redeem_router

router = Router(tags=["points"])
router.add_router("", redeem_router)
