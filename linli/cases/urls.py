"""The case pages, under /cases/: residents first, then the staff console."""

from django.urls import path, register_converter

from . import views, views_photos, views_settings

app_name = "cases"


class CaseNumberConverter:
    """A case number as services._next_number writes it: <community code>-<yyyymmdd>-<nnnn>."""

    regex = r"[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*-\d{8}-\d{4,}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(CaseNumberConverter, "case")

urlpatterns = [
    path("", views.my_cases, name="mine"),
    path("new/", views.case_new, name="new"),
    path("suggest/", views.suggest, name="suggest"),
    path("report/", views.case_report, name="report"),
    path("report/done/", views.case_report_done, name="report_done"),
    path("console/", views.console, name="staff_list"),
    path("console/new/", views.staff_new, name="staff_new"),
    path("console/rates/", views.rates_dashboard, name="rates"),
    path("console/rates/export.csv", views.rates_export, {"fmt": "csv"}, name="rates_csv"),
    path("console/rates/export.xlsx", views.rates_export, {"fmt": "xlsx"}, name="rates_xlsx"),
    # The case settings community admins edit (views_settings).
    path("console/settings/", views_settings.index, name="settings"),
    path("console/settings/<int:community>/holidays/", views_settings.holidays, name="settings_holidays"),
    path("console/settings/<int:community>/holidays/load/", views_settings.holidays_load,
         name="settings_holidays_load"),
    path("console/settings/<int:community>/holidays/<int:pk>/", views_settings.holiday, name="settings_holiday"),
    path("console/settings/<int:community>/holidays/<int:pk>/remove/", views_settings.holiday_remove,
         name="settings_holiday_remove"),
    path("console/settings/<int:community>/routing/", views_settings.routing, name="settings_routing"),
    path("console/settings/<int:community>/routing/<int:pk>/remove/", views_settings.routing_remove,
         name="settings_routing_remove"),
    path("console/settings/<int:community>/keywords/", views_settings.keywords, name="settings_keywords"),
    path("console/settings/<int:community>/keywords/<int:category>/", views_settings.keyword,
         name="settings_keyword"),
    path("console/settings/<int:community>/limits/", views_settings.limits, name="settings_limits"),
    path("console/settings/<int:community>/limits/<int:category>/<str:urgency>/", views_settings.limit,
         name="settings_limit"),
    path("console/<case:number>/", views.staff_detail, name="staff_detail"),
    path("console/<case:number>/reveal-contact/", views.staff_reveal_contact, name="reveal_contact"),
    path("console/<case:number>/<str:move>/", views.staff_move, name="staff_move"),
    path("<case:number>/", views.case_detail, name="detail"),
    path("<case:number>/rate/", views.case_rate, name="rate"),
    path("<case:number>/photos/<int:photo_id>/", views_photos.case_photo, name="photo"),
]
