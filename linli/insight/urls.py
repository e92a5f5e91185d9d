"""Pages and endpoints of linli.insight, under /insight/."""

from django.urls import path

from . import views, views_hot

app_name = "insight"

urlpatterns = [
    path("reply-check", views.reply_check, name="reply_check"),
    path("hot-issues/", views_hot.hot_issue_list, name="hot_issues"),
    path("hot-issues/<str:pk>/", views_hot.hot_issue_detail, name="hot_issue"),
    path("alerts/", views_hot.alert_list, name="alerts"),
    path("alerts/<str:pk>/", views_hot.alert_detail, name="alert"),
    path("alerts/<str:pk>/status", views_hot.alert_status, name="alert_status"),
    path("cases/<str:number>/merge", views_hot.similar_merge, name="similar_merge"),
]
