from django.urls import path

from . import views

app_name = "importing"
urlpatterns = [
    path("", views.import_start, name="start"),
    path("<int:pk>/", views.import_job, name="job"),
    path("<int:pk>/mapping/", views.import_mapping, name="mapping"),
    path("<int:pk>/preview/", views.import_preview, name="preview"),
    path("<int:pk>/confirm/", views.import_confirm, name="confirm"),
    path("<int:pk>/status.json", views.import_status, name="status"),
]
