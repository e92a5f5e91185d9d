"""The canteen API at ``/api/v1/canteen/`` (docs/canteen.md): one router, the parts' routers inside."""

from ninja import Router

from .api_orders import router as orders_router

router = Router(tags=["canteen"])
router.add_router("", orders_router)
