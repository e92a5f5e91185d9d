"""The canteen's office pages for menus, dishes, subsidies, permits, the claim and the dashboard
(docs/canteen.md, "Office pages"). Names join the ``canteen`` namespace."""

from django.urls import path

from . import views_menu as v

urlpatterns = [
    path("office/", v.office_index, name="office_index"),
    path("<str:code>/office/", v.office, name="office"),
    path("<str:code>/office/menu/", v.office_menu, name="office_menu"),
    path("<str:code>/office/menu/new/", v.office_meal_new, name="office_meal_new"),
    path("<str:code>/office/meal/<int:pk>/", v.office_meal, name="office_meal"),
    path("<str:code>/office/dishes/", v.office_dishes, name="office_dishes"),
    path("<str:code>/office/dishes/<int:pk>/", v.office_dish, name="office_dish"),
    path("<str:code>/office/rules/", v.office_rules, name="office_rules"),
    path("<str:code>/office/permits/", v.office_permits, name="office_permits"),
    path("<str:code>/office/claim/", v.office_claim, name="office_claim"),
    path("<str:code>/office/dashboard/", v.office_dashboard, name="office_dashboard"),
]
