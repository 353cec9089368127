"""Credit note pages: correct a credit note (number, date, amount, reason, external id)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from tenancy.errors import DomainError
from tenancy.forms import form_error_from_domain
from tenancy.views import organization_required

from .. import services
from ..forms import CreditNoteUpdateForm, EditVersionForm
from ..models import CreditNote
from .common import versioned_save


def _credit_note(request: HttpRequest, pk: int, *, locked: bool = False) -> CreditNote:
    notes = (CreditNote.objects.select_for_update(of=("self",), no_key=True) if locked
             else CreditNote.objects.select_related("customer"))
    return get_object_or_404(notes, organization=request.organization, pk=pk)


@organization_required
def credit_note_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a credit note through `services.credit_note_update`.

    The form carries the `updated_at` the user opened; a save over a change made meanwhile is refused
    and the form shows the current values instead."""
    note = _credit_note(request, pk)
    form = CreditNoteUpdateForm.for_object(note, request.POST if request.method == "POST" else None)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            saved = versioned_save(form, lambda: _credit_note(request, pk, locked=True),
                                   lambda current: services.credit_note_update(
                                       organization=request.organization, credit_note=current, actor=request.user,
                                       **form.changes(current)))
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            if saved is not None:
                messages.success(request, _("Credit note %(number)s saved.") % {"number": saved.number})
                return redirect("credit_note_update", pk=saved.pk)
            stale = True
            note = _credit_note(request, pk)  # show what is there now; the user reviews it and saves again
            form = CreditNoteUpdateForm.for_object(note)
    allocations = note.allocations.filter(organization=request.organization).select_related("invoice").order_by("pk")
    return render(request, "receivables/credit_note_edit.html", {
        "form": form, "note": note, "allocations": allocations,
        "applied": allocations.aggregate(total=Sum("amount"))["total"] or 0,
        "stale_message": EditVersionForm.STALE_MESSAGE if stale else None,
    })
