"""The services' bookings pages (docs/services.md)."""

urlpatterns = []
