"""The canteen's delivery pages (docs/canteen.md)."""

urlpatterns = []
