"""The credit score history as figures for static/js/charts.js (templates/charts/_score_history.html)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def score_history_chart(history) -> dict:
    """history: the customer's scores, oldest first (credit.selectors.score_history)."""
    return {"dates": [score.as_of for score in history], "scores": [score.score for score in history],
            "grades": [score.grade for score in history], "name": _("Score"), "grade_label": _("Grade")}
