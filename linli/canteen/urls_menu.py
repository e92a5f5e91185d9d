"""The canteen's menu pages (docs/canteen.md)."""

urlpatterns = []
