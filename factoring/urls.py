from django.urls import path

from . import views

app_name = "factoring"
urlpatterns = [
    path("", views.facility_list, name="facility_list"),
    path("facilities/new/", views.facility_form, name="facility_create"),
    path("facilities/<int:pk>/", views.facility_detail, name="facility_detail"),
    path("facilities/<int:pk>/edit/", views.facility_form, name="facility_edit"),
    path("facilities/<int:pk>/eligibility/", views.eligibility, name="eligibility"),
    path("facilities/<int:pk>/statement/", views.statement_import, name="statement_import"),
    path("facilities/<int:pk>/settle/", views.seller_settle, name="seller_settle"),
    path("assignments/<int:pk>/", views.assignment_detail, name="assignment_detail"),
    path("assignments/<int:pk>/<slug:action>/", views.assignment_action, name="assignment_action"),
    path("assignments/<int:pk>/schedule.<str:fmt>", views.schedule_export, name="schedule_export"),
    path("assignments/<int:pk>/notice/<int:customer_pk>.pdf", views.notice, name="notice"),
    path("lines/<int:pk>/repurchase/", views.repurchase, name="repurchase"),
]
