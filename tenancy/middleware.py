"""Request -> organization, and the signed-in user's language."""

from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from .models import Membership, UserProfile

SESSION_ORGANIZATION_KEY = "inflow_organization_id"


class UserLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, but a signed-in user's saved language wins."""

    def process_request(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = UserProfile.objects.filter(user=user).values_list("language", flat=True).first()
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
                return
        super().process_request(request)


class OrganizationMiddleware:
    """Set request.organization and request.membership from the session user's memberships.

    The organization is whichever one the user last switched to (kept in the session), or
    the one they joined first. A user with no membership gets None, and every organization
    page 404s."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = Membership.objects.filter(user=user).select_related("organization")
            wanted = request.session.get(SESSION_ORGANIZATION_KEY)
            membership = (memberships.filter(organization_id=wanted).first() if wanted else None) or (
                memberships.order_by("created_at", "pk").first()
            )
            if membership is not None:
                request.membership = membership
                request.organization = membership.organization
        return self.get_response(request)
