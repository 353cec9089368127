"""Every write of credit insurance, split by entity; the public names are re-exported here."""

from .alerts import deadline_warnings_run
from .claims import (
    ClaimStateError,
    claim_create,
    claim_decide,
    claim_file,
    claim_pay,
    claim_recovery_record,
)
from .cover import (
    CoverAlreadyDecided,
    cover_amount,
    cover_decision_receive,
    cover_request_create,
    cover_request_decide,
    cover_request_submit,
    cover_requests_poll,
)
from .declarations import declaration_create, declaration_prefill
from .policies import policy_create, policy_update

__all__ = [
    "ClaimStateError",
    "CoverAlreadyDecided",
    "claim_create",
    "claim_decide",
    "claim_file",
    "claim_pay",
    "claim_recovery_record",
    "cover_amount",
    "cover_decision_receive",
    "cover_request_create",
    "cover_request_decide",
    "cover_request_submit",
    "cover_requests_poll",
    "deadline_warnings_run",
    "declaration_create",
    "declaration_prefill",
    "policy_create",
    "policy_update",
]
