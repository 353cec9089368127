"""An asynchronous insurer API of the Allianz Trade kind, over HTTP with JSON.

    POST {base}/cover-requests  -> 202 {"jobId": "..."}          (optional "callbackUrl" in the body)
    GET  {base}/jobs/{jobId}    -> 200 {"status": "processing"} | {"status": "processed", "decision": {...}}
    POST {base}/overdues        -> 201 {"reference": "..."}       ("type": OVD | EXP | RES)
    POST {base}/claims          -> 201 {"reference": "..."}

A 5xx, a 429 or a connection failure is retried (back-off doubling from `backoff` seconds, a 429's
Retry-After honoured, at most `attempts` tries); any other 4xx is an InsurerError at once. Only hosts
listed in settings.INSURER_API_ALLOWED_HOSTS are called (default: loopback only, for the simulated
insurer of the tests and development)."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _

from .base import InsurerDecision, InsurerError

DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "::1")
DECISIONS = {"APPROVED": "approved", "FULL": "approved", "PARTIAL": "partial", "REFUSED": "refused",
             "approved": "approved", "partial": "partial", "refused": "refused"}


def decision_from_json(data: dict[str, Any]) -> InsurerDecision:
    """The insurer's decision object as an InsurerDecision (also used by the callback view)."""
    try:
        valid_until = data.get("validUntil")
        decided_on = data.get("decidedOn")
        return InsurerDecision(
            decision=DECISIONS[data["decision"]], amount=Decimal(str(data.get("amount", "0"))),
            reason_code=str(data.get("reasonCode") or ""), reason_text=str(data.get("reasonText") or ""),
            valid_until=dt.date.fromisoformat(valid_until) if valid_until else None,
            decided_on=dt.date.fromisoformat(decided_on) if decided_on else None,
            reference=str(data.get("decisionId") or ""))
    except (KeyError, ValueError, ArithmeticError) as exc:
        raise InsurerError(_("Unreadable decision from the insurer: %(error)s") % {"error": repr(exc)}) from None


class HttpConnector:
    kind = "http"

    def __init__(self, base_url: str, *, attempts: int = 4, backoff: float = 0.05, timeout: float = 10.0,
                 sleep=time.sleep):
        parts = urlsplit(base_url)
        allowed = getattr(settings, "INSURER_API_ALLOWED_HOSTS", DEFAULT_ALLOWED_HOSTS)
        if parts.scheme not in ("http", "https") or parts.hostname not in allowed:
            raise InsurerError(_("Insurer API host %(host)s is not in INSURER_API_ALLOWED_HOSTS.")
                               % {"host": repr(parts.hostname)})
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.attempts, self.backoff, self.timeout, self.sleep = attempts, backoff, timeout, sleep

    def _once(self, method: str, path: str, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        connection = cls(self.host, self.port, timeout=self.timeout)
        try:
            headers = {"Accept": "application/json"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            connection.request(method, self.prefix + path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        body = None if payload is None else json.dumps(payload, cls=DjangoJSONEncoder).encode()
        delay = self.backoff
        last: InsurerError | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                status, headers, raw = self._once(method, path, body)
            except (OSError, http.client.HTTPException) as exc:
                last = InsurerError(_("Insurer unreachable: %(error)s") % {"error": exc}, retryable=True)
            else:
                if 200 <= status < 300:
                    try:
                        return json.loads(raw or b"{}")
                    except ValueError:
                        raise InsurerError("The insurer answered with something that is not JSON.",
                                           status=status) from None
                message = raw.decode("utf-8", "replace")[:300]
                if status != 429 and status < 500:
                    raise InsurerError(_("The insurer refused the call (%(status)s): %(message)s")
                                       % {"status": status, "message": message}, status=status)
                last = InsurerError(_("Insurer error %(status)s: %(message)s") % {"status": status, "message": message},
                                    status=status, retryable=True)
                retry_after = headers.get("retry-after", "")
                if status == 429 and retry_after.isdigit():
                    delay = max(delay, float(retry_after))
            if attempt < self.attempts:
                self.sleep(delay)
                delay *= 2
        assert last is not None
        raise last

    def cover_request_submit(self, payload: dict[str, Any]) -> str | None:
        answer = self.call("POST", "/cover-requests", payload)
        job_id = answer.get("jobId")
        if not job_id:
            raise InsurerError("The insurer did not return a job id.")
        return str(job_id)

    def cover_decision_poll(self, job_id: str) -> InsurerDecision | None:
        answer = self.call("GET", f"/jobs/{job_id}")
        status = answer.get("status")
        if status == "processing":
            return None
        if status == "processed":
            return decision_from_json(answer.get("decision") or {})
        if status == "failed":
            raise InsurerError(_("The insurer could not process job %(job)s: %(error)s")
                               % {"job": job_id, "error": answer.get("error", "")})
        raise InsurerError(_("Unknown job status %(status)s from the insurer.") % {"status": repr(status)})

    def overdue_declare(self, payload: dict[str, Any]) -> str | None:
        return str(self.call("POST", "/overdues", payload).get("reference") or "")

    def claim_file(self, payload: dict[str, Any]) -> str | None:
        return str(self.call("POST", "/claims", payload).get("reference") or "")
