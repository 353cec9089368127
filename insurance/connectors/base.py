"""The adapter interface every insurer connection implements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol


class InsurerError(Exception):
    """The insurer refused the call or could not be reached after the retries."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class InsurerDecision:
    decision: str  # approved | partial | refused
    amount: Decimal
    reason_code: str = ""
    reason_text: str = ""
    valid_until: dt.date | None = None
    decided_on: dt.date | None = None
    reference: str = ""


class InsurerConnector(Protocol):
    kind: str

    def cover_request_submit(self, payload: dict[str, Any]) -> str | None:
        """Send a cover request; the insurer's job id, or None when a person will enter the answer."""

    def cover_decision_poll(self, job_id: str) -> InsurerDecision | None:
        """The decision once the insurer has processed the job; None while it is still processing."""

    def overdue_declare(self, payload: dict[str, Any]) -> str | None:
        """Send an overdue / extension / rescheduling declaration (OVD / EXP / RES); the insurer's reference."""

    def claim_file(self, payload: dict[str, Any]) -> str | None:
        """File a claim; the insurer's reference."""
