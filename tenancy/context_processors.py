from dataclasses import dataclass

from .models import Role, role_covers
from .selectors import organizations_for_user


@dataclass(frozen=True)
class Capabilities:
    """What the signed-in member may do in the current organization, for templates to hide what
    they would refuse (`{% if can.collect %}`). The views still check; this only spares a viewer
    buttons that end in 'permission denied'. Each role includes those below it."""

    role: str | None

    def _covers(self, needed: Role) -> bool:
        return self.role is not None and role_covers(self.role, needed)

    @property
    def collect(self) -> bool:
        """Record ledger entries, promises, disputes, calls, reminders (collector and above)."""
        return self._covers(Role.COLLECTOR)

    @property
    def manage_credit(self) -> bool:
        """Limits, holds, approvals, dunning policies (credit manager and above)."""
        return self._covers(Role.CREDIT_MANAGER)

    @property
    def admin(self) -> bool:
        """Organization settings, members, integrations, templates (admin)."""
        return self._covers(Role.ADMIN)


def organization(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "organization": getattr(request, "organization", None),
        "membership": membership,
        "user_organizations": organizations_for_user(user),
        "can": Capabilities(membership.role if membership is not None else None),
    }
