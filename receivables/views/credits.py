"""Correcting what settled an invoice besides cash: a credit note (number, date, amount, reason,
external id), a write-off (its reason)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from tenancy.views import organization_required

from .. import services
from ..forms import CreditNoteUpdateForm, WriteOffUpdateForm
from ..models import CreditNote, WriteOff
from .common import correction_page


def _credit_note(request: HttpRequest, pk: int, *, locked: bool = False) -> CreditNote:
    notes = (CreditNote.objects.select_for_update(of=("self",), no_key=True) if locked
             else CreditNote.objects.select_related("customer"))
    return get_object_or_404(notes, organization=request.organization, pk=pk)


@organization_required
def credit_note_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a credit note through `services.credit_note_update` (the version check of every
    correction page: a save over a change made meanwhile is refused, the current values shown)."""

    def done(note: CreditNote) -> HttpResponse:
        messages.success(request, _("Credit note %(number)s saved.") % {"number": note.number})
        return redirect("credit_note_update", pk=note.pk)

    def context(note: CreditNote) -> dict:
        allocations = note.allocations.filter(organization=request.organization).select_related("invoice")
        return {"note": note, "allocations": allocations.order_by("pk"),
                "applied": allocations.aggregate(total=Sum("amount"))["total"] or 0}

    return correction_page(
        request, form_class=CreditNoteUpdateForm, load=lambda locked=False: _credit_note(request, pk, locked=locked),
        save=lambda current, changes: services.credit_note_update(
            organization=request.organization, credit_note=current, actor=request.user, **changes),
        done=done, template="receivables/credit_note_edit.html", context=context)


def _write_off(request: HttpRequest, pk: int, *, locked: bool = False) -> WriteOff:
    write_offs = (WriteOff.objects.select_for_update(of=("self",), no_key=True) if locked
                  else WriteOff.objects.select_related("invoice"))
    return get_object_or_404(write_offs, organization=request.organization, pk=pk)


@organization_required
def write_off_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a write-off's reason through `services.write_off_update` (credit managers)."""

    def done(write_off: WriteOff) -> HttpResponse:
        messages.success(request, _("Write-off saved."))
        return redirect("invoice_detail", pk=write_off.invoice_id)

    return correction_page(
        request, form_class=WriteOffUpdateForm, load=lambda locked=False: _write_off(request, pk, locked=locked),
        save=lambda current, changes: services.write_off_update(
            organization=request.organization, write_off=current, actor=request.user, **changes),
        done=done, template="receivables/write_off_edit.html", context=lambda write_off: {"write_off": write_off})
