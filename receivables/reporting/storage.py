"""The default home of report files: a private folder that no URL serves."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property


class PrivateReportStorage(FileSystemStorage):
    """FileSystemStorage under <MEDIA_ROOT>/../reports, without a base URL.

    Beside MEDIA_ROOT rather than inside it: in DEBUG, config/urls.py serves MEDIA_ROOT to
    anyone, and a report must only leave through the organization-checked download view."""

    def __init__(self):
        super().__init__(base_url=None)

    @cached_property
    def base_location(self):
        return os.path.join(os.path.dirname(os.path.normpath(settings.MEDIA_ROOT)), "reports")

    def url(self, name):
        raise NotImplementedError("Report files have no public URL; use the archive download view.")

    def deconstruct(self):
        return ("receivables.reporting.storage.PrivateReportStorage", (), {})
