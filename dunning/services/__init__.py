"""Every write of the dunning app, one module per entity; the public names are re-exported here.

The daily run records each (invoice, step) notice with the exact rendered message in one
transaction, before anything is sent; sending is queued on commit and claims the message row
first, so a retry, a second beat tick or a second worker never sends twice.
"""

from .. import rendering, selectors
from .charges import late_charges_invoice, payment_record_with_discount
from .common import timeline_add
from .disputes import DISPUTE_SLA_DAYS, dispute_open, dispute_resolve
from .plans import payment_plan_create, plans_evaluate
from .policies import (
    DEFAULT_STEPS,
    customer_dunning_set,
    dunning_policy_create,
    dunning_policy_default,
    dunning_policy_steps_set,
    dunning_policy_update,
    policy_for_customer,
    segment_policy_set,
)
from .portal import portal_dispute_open, portal_promise_create, portal_visit_record
from .promises import promise_create, promises_evaluate
from .reminders import message_template_reset, message_template_set, reminder_draft, send_one_off
from .runs import RUN_LOCK_NAMESPACE, Plan, Preview, dunning_preview, dunning_preview_page, dunning_run
from .sending import (
    MAX_SEND_ATTEMPTS,
    SEND_BATCH,
    dunning_message_email,
    dunning_message_send,
    letter_filename,
)
from .worklist import collection_task_assign, collection_task_log, collector_notify

__all__ = [
    "DEFAULT_STEPS", "DISPUTE_SLA_DAYS", "MAX_SEND_ATTEMPTS", "RUN_LOCK_NAMESPACE", "SEND_BATCH", "Plan", "Preview",
    "collection_task_assign", "collection_task_log", "collector_notify", "customer_dunning_set", "dispute_open",
    "dispute_resolve", "dunning_message_email", "dunning_message_send", "dunning_policy_create",
    "dunning_policy_default", "dunning_policy_steps_set", "dunning_policy_update", "dunning_preview",
    "dunning_preview_page", "dunning_run", "late_charges_invoice", "letter_filename", "payment_plan_create",
    "payment_record_with_discount", "plans_evaluate", "policy_for_customer", "portal_dispute_open",
    "portal_promise_create", "portal_visit_record", "promise_create", "promises_evaluate", "rendering",
    "segment_policy_set", "selectors", "timeline_add",
    "message_template_reset", "message_template_set", "reminder_draft", "send_one_off",  # issue 14 item 4
]
