"""Pages of service hours (linli/volunteers/views_hours.py); names join the ``volunteers`` namespace."""

from django.urls import path

from . import views_hours as v

urlpatterns = [
    path("scan/<int:pk>/<str:purpose>/<str:code>/", v.scan, name="scan"),
    path("me/records/", v.my_records, name="my_records"),
    path("me/certificate.pdf", v.my_certificate, name="my_certificate"),
    path("me/rate/<int:pk>/", v.rate, name="rate"),
    path("<str:code>/honour/", v.honour, name="honour"),
    path("<str:code>/office/activity/<int:pk>/qr/", v.qr_page, name="qr"),
    path("<str:code>/office/activity/<int:pk>/qr.json", v.qr_state, name="qr_state"),
    path("<str:code>/office/activity/<int:pk>/hours/", v.office_hours, name="office_hours"),
    path("<str:code>/office/records/", v.office_records, name="office_records"),
    path("<str:code>/office/records/<int:pk>/", v.office_record_decide, name="office_record_decide"),
    path("<str:code>/office/summary/", v.office_summary, name="office_summary"),
]
