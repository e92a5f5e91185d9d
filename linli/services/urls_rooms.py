"""The services' rooms pages (docs/services.md)."""

urlpatterns = []
