"""The services' slots and bookings API (docs/services.md)."""

from ninja import Router

router = Router()
