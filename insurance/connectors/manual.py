"""The manual adapter: nothing is sent; a person records what the insurer answered."""

from __future__ import annotations

from typing import Any

from .base import InsurerDecision


class ManualConnector:
    kind = "manual"

    def cover_request_submit(self, payload: dict[str, Any]) -> str | None:
        return None

    def cover_decision_poll(self, job_id: str) -> InsurerDecision | None:
        return None

    def overdue_declare(self, payload: dict[str, Any]) -> str | None:
        return None

    def claim_file(self, payload: dict[str, Any]) -> str | None:
        return None
