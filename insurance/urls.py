from django.urls import path

from . import callbacks, views

app_name = "insurance"

urlpatterns = [
    path("", views.policy_list, name="policy_list"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("customers/<int:pk>/", views.customer_cover, name="customer"),
    path("customers/<int:pk>/<slug:action>/", views.customer_action, name="customer_action"),
    path("cover-requests/<int:pk>/decide/", views.cover_decide, name="cover_decide"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("declarations/", views.declaration_list, name="declarations"),
    path("claims/", views.claim_list, name="claims"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/claim-file.zip", views.claim_download, name="claim_download"),
    path("claims/<int:pk>/<slug:action>/", views.claim_action, name="claim_action"),
    path("callback/<int:policy_pk>/<str:token>/", callbacks.insurer_callback, name="callback"),
]
