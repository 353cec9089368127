from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("organization/switch/", views.organization_switch, name="organization_switch"),
    path("language/", views.language_set, name="language_set"),
    path("outbox/", views.outbox_list, name="outbox_list"),
    path("outbox/<int:pk>/", views.outbox_detail, name="outbox_detail"),
    path("settings/", views.organization_settings, name="organization_settings"),
    path("settings/members/", views.membership_set, name="membership_set"),
]
