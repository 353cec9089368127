"""django-filter for the API, skipped when a request names none of the view's filters.

Building a FilterSet's form costs about as much as rendering a page of a hundred rows, and most
list requests (an ERP paging with `cursor` and `page_size`) filter on nothing. A parameter counts
as naming a filter when it is the filter's name or starts with it and an underscore (django-filter's
range widgets read `<name>_min`, `<name>_after`, ...): then the FilterSet runs as usual, with its
validation errors."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(param == name or param.startswith(f"{name}_") for param in request.query_params for name in names):
            return queryset
        return super().filter_queryset(request, queryset, view)
