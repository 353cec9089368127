from django.urls import path

from . import callbacks

app_name = "insurance"

urlpatterns = [
    path("callback/<int:policy_pk>/<str:token>/", callbacks.insurer_callback, name="callback"),
]
