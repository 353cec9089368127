"""Insurer connectors: one interface (submit a cover request, poll or receive its decision, declare an
overdue, file a claim), a manual adapter and an adapter for an asynchronous HTTP API."""

from __future__ import annotations

from ..models import ConnectorKind, Policy
from .base import InsurerConnector, InsurerDecision, InsurerError
from .http import HttpConnector
from .manual import ManualConnector

__all__ = ["HttpConnector", "InsurerConnector", "InsurerDecision", "InsurerError", "ManualConnector",
           "connector_for"]


def connector_for(policy: Policy) -> InsurerConnector:
    if policy.connector == ConnectorKind.HTTP:
        return HttpConnector(policy.connector_url)
    return ManualConnector()
