"""The canteen's meals and orders API (docs/canteen.md)."""

from ninja import Router

router = Router()
