from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from . import bounds
        from .auth import login_lockout_audit

        bounds.install()

        user_locked_out.connect(login_lockout_audit, dispatch_uid="tenancy.login_lockout_audit")
