"""The canteen's orders pages (docs/canteen.md)."""

urlpatterns = []
