"""Insurance codes shown by their names in the reader's language (issue 14 item 10)."""

from django import template

from ..models import Decision
from ..selectors import DeadlineState

register = template.Library()


@register.filter
def deadline_state(state: str) -> str:
    """A deadline state's code (due_soon) as its name (Due soon)."""
    label = DeadlineState.LABELS.get(state)
    return str(label) if label is not None else state


@register.filter
def cover_decision(decision: str) -> str:
    """An insurer's decision code (approved, partial, refused) as its name."""
    return str(Decision(decision).label) if decision in Decision.values else decision
