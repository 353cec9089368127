from django.urls import path

from . import aging_views, views

app_name = "reporting"
urlpatterns = [
    path("", views.report_archive, name="archive"),
    path("aging/", aging_views.aging_by_customer, name="aging"),
    path("weekly/schedule/", views.schedule_edit, name="schedule"),
    path("weekly/preview/", views.report_preview, name="preview"),
    path("weekly/send-now/", views.report_send_now, name="send_now"),
    path("weekly/<int:pk>/<str:kind>/", views.report_download, name="download"),
]
