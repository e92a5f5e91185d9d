"""The services' events pages (docs/services.md)."""

urlpatterns = []
