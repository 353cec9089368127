"""The default home of report files: a private folder that no URL serves."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property


class PrivateReportStorage(FileSystemStorage):
    """FileSystemStorage under REPORTS_ROOT (default <MEDIA_ROOT>/../reports), without a base URL.

    Not inside MEDIA_ROOT: in DEBUG, config/urls.py serves MEDIA_ROOT to anyone, and a report
    must only leave through the organization-checked download view."""

    def __init__(self):
        super().__init__(base_url=None)

    @cached_property
    def base_location(self):
        return str(settings.REPORTS_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "REPORTS_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise NotImplementedError("Report files have no public URL; use the archive download view.")

    def deconstruct(self):
        return ("receivables.reporting.storage.PrivateReportStorage", (), {})
