"""The insurer's callback: the asynchronous API posts a processed cover job's decision here.

The URL carries a token (HMAC of the policy id with SECRET_KEY), so only a party that was given the
URL at submission can post to it; a wrong token or an unknown job is a 404."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tenancy.errors import DomainError

from . import services
from .connectors.base import InsurerError
from .connectors.http import decision_from_json
from .models import Policy


def callback_token(policy_id: int) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"insurance-callback:{policy_id}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def callback_path(policy_id: int) -> str:
    return reverse("insurance:callback", kwargs={"policy_pk": policy_id, "token": callback_token(policy_id)})


@csrf_exempt
@require_POST
def insurer_callback(request: HttpRequest, policy_pk: int, token: str) -> HttpResponse:
    if not hmac.compare_digest(token, callback_token(policy_pk)):
        return JsonResponse({"error": "not found"}, status=404)
    policy = Policy.objects.select_related("organization").filter(pk=policy_pk).first()
    if policy is None:
        return JsonResponse({"error": "not found"}, status=404)
    try:
        body = json.loads(request.body or b"{}")
        job_id = str(body["jobId"])
        decision = decision_from_json(body.get("decision") or {})
    except (ValueError, KeyError, InsurerError) as exc:
        return JsonResponse({"error": f"unreadable callback: {exc}"}, status=400)
    try:
        services.cover_decision_receive(organization=policy.organization, job_id=job_id, decision=decision)
    except services.CoverAlreadyDecided:
        return HttpResponse(status=204)  # a repeated callback: already recorded
    except DomainError as exc:
        return JsonResponse({"error": exc.message}, status=404 if exc.code == "not_found" else 400)
    return HttpResponse(status=204)
