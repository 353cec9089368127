"""What the list pages share: their FilterSet (receivables.filters, the API's), the sort, the
CSV/XLSX download of the filtered rows, and the selected rows a bulk action posts."""

from __future__ import annotations

import html
from collections.abc import Sequence

from django import forms
from django.contrib import messages
from django.forms.utils import flatatt
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from tenancy.views import safe_next

from ..exports import Column, ExportTooLarge, export_format, list_export_response
from ..filters import sort_key
from ..models import Customer


class ChainedRows:
    """Querysets one after another, as one list a Paginator can page: `count()` adds their counts and
    a slice reads only the parts it spans. For an order by a computed key (open invoices first) that
    no index has: each part is read in an order an index has, and a page reads only the rows it shows.
    `whole`: all parts' rows as one queryset, when counting it is cheaper than counting the last part
    (the last part's count is then the difference)."""

    def __init__(self, *parts, whole=None):
        self.parts = parts
        self.whole = whole
        self._counts = None

    def _sizes(self) -> list[int]:
        if self._counts is None:
            if self.whole is None:
                self._counts = [part.count() for part in self.parts]
            else:
                first = [part.count() for part in self.parts[:-1]]
                self._counts = [*first, self.whole.count() - sum(first)]
        return self._counts

    def count(self) -> int:
        return sum(self._sizes())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("ChainedRows supports slices only")
        start, stop, _step = key.indices(self.count())
        rows, offset = [], 0
        for part, size in zip(self.parts, self._sizes(), strict=True):
            low, high = max(start - offset, 0), min(stop - offset, size)
            if low < high:
                rows += list(part[low:high])
            offset += size
        return rows


def list_filterset(filterset_class, request: HttpRequest, queryset):
    """The page's FilterSet bound to its query string (page, sort, export are not filters)."""
    return filterset_class(request.GET or None, queryset=queryset, request=request)


def ui_fields(filterset, auto_id: str = "id_%s") -> list:
    """The bound fields a page shows, in the FilterSet's UI_FIELDS order (`auto_id`: their HTML ids,
    for a page with another form holding fields of the same names)."""
    filterset.form.auto_id = auto_id
    for name in filterset.UI_FIELDS:
        field = filterset.form.fields[name]
        if type(field.widget) is forms.Select:  # the currency filter's 150-odd codes: a template per option
            field.widget = LongSelect(attrs=field.widget.attrs, choices=list(field.choices))
    return [filterset.form[name] for name in filterset.UI_FIELDS]


def customer_choices(filterset, organization) -> None:
    """Show the customer filter as a choice of the organization's customers: another organization's
    id is then a form error (and the filter is left out), as the page always did."""
    choices = [("", _("Any customer")),
               *Customer.objects.filter(organization=organization).order_by("name", "pk").values_list("pk", "name")]
    field = filterset.form.fields["customer"]
    filterset.form.fields["customer"] = forms.TypedChoiceField(label=field.label, required=False, coerce=int,
                                                               empty_value=None, choices=choices, widget=LongSelect)


class LongSelect(forms.Select):
    """A drop-down of flat choices rendered in one pass: the same markup as forms.Select without a
    template per option (an organization's 2,000 customers took most of the invoice list's time)."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = next(iter(self.format_value(value)), None)
        # What format_html_join gave, with the standard library's escape (what Django's calls) straight
        # on each string: format_html per option was 29 ms of the invoice list for 2,000 customers.
        options = "\n".join(
            f"<option value=\"{_escaped(choice)}\"{' selected' if choice == selected else ''}>{_escaped(label)}</option>"
            for choice, label in ((("" if v is None else str(v)), label) for v, label in self.choices))
        return format_html("<select name=\"{}\"{}>\n{}\n</select>", name,
                           flatatt(self.build_attrs(self.attrs, attrs)), mark_safe(options))  # noqa: S308 - escaped


def _escaped(value) -> str:
    """conditional_escape without its lazy-string wrapper: safe strings as they are, the rest escaped."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


class OneOfSelect(forms.Select):
    """A multiple-choice filter (the API takes `status=a&status=b`) shown as one drop-down: a page
    asks for one value at a time, and a link with several still filters by all of them."""

    def value_from_datadict(self, data, files, name):
        return [value for value in data.getlist(name) if value] if hasattr(data, "getlist") else data.get(name)


def one_of(filterset, name: str, any_label) -> None:
    """Show the multiple-choice filter `name` as a drop-down with `any_label` first."""
    field = filterset.form.fields[name]
    field.widget = OneOfSelect(choices=[("", any_label), *field.choices])


def sorted_rows(queryset, sorts: dict, request: HttpRequest):
    sort = sort_key(sorts, request.GET.get("sort"))
    return queryset.order_by(*sorts[sort]), sort


def export_or_none(request: HttpRequest, filterset, rows, *, stem: str, title: str,
                   columns: Sequence[Column]) -> HttpResponse | None:
    """The download when the page is asked for one (`?export=csv|xlsx`), else None. Filters that
    do not validate refuse the download (it would hold more rows than the page shows)."""
    fmt = export_format(request)
    if fmt is None:
        return None
    if filterset is not None and filterset.is_bound and not filterset.is_valid():
        messages.error(request, _("Correct the filters before downloading."))
        return None
    try:
        return list_export_response(organization=request.organization, stem=stem, title=title, columns=columns,
                                    objects=rows, fmt=fmt)
    except ExportTooLarge as exc:
        messages.error(request, exc.message)
        return None


def list_download(request: HttpRequest, rows, *, stem: str, title: str,
                  columns: Sequence[Column]) -> HttpResponse | None:
    """A list page's download (`?export=csv|xlsx`) of `rows` (already narrowed by the page), else None."""
    return export_or_none(request, None, rows, stem=stem, title=title, columns=columns)


def selected_rows(request: HttpRequest, queryset):
    """The rows whose ids a bulk form posted (`ids`), all of the organization, or None: an id that
    is not a number or not one of the organization's rows refuses the whole selection."""
    raw = request.POST.getlist("ids")
    if not raw:
        messages.error(request, _("Select at least one row."))
        return None
    if not all(value.isascii() and value.isdigit() for value in raw):
        messages.error(request, _("The selection holds rows that do not exist; nothing was done."))
        return None
    ids = {int(value) for value in raw}
    rows = queryset.filter(organization=request.organization, pk__in=ids)
    if rows.count() != len(ids):
        messages.error(request, _("The selection holds rows that do not exist; nothing was done."))
        return None
    return rows


def back(request: HttpRequest, fallback: str) -> HttpResponse:
    return redirect(safe_next(request, fallback))
