"""The canteen's delivery pages (docs/canteen.md, "Delivery" and "Statements")."""

from django.urls import path

from . import views_delivery as views

urlpatterns = [
    path("<str:code>/rounds/", views.round_list, name="rounds"),
    path("<str:code>/rounds/plan/", views.round_plan, name="round_plan"),
    path("round/<int:pk>/", views.round_page, name="round"),
    path("round/<int:pk>/stop/<int:order>/", views.round_stop, name="round_stop"),
    path("round/<int:pk>/<str:move>/", views.round_move, name="round_move"),
    path("<str:code>/sheet/<str:date>.pdf", views.sheet_pdf, name="sheet"),
    path("<str:code>/office/statement/<int:year>/<int:month>/", views.statement, name="statement"),
]
