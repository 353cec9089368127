"""Report files go to REPORTS_ROOT (a folder no URL serves), which a deployment can put on a
volume shared by the web and worker containers."""

import pytest
from django.core.files.base import ContentFile

from receivables.models import WeeklyReport


def test_report_files_are_written_under_reports_root(settings, tmp_path):
    settings.REPORTS_ROOT = str(tmp_path / "shared" / "reports")
    storage = WeeklyReport._meta.get_field("pdf").storage

    name = storage.save("1/aging.pdf", ContentFile(b"%PDF-1.7"))

    assert (tmp_path / "shared" / "reports" / name).read_bytes() == b"%PDF-1.7"
    assert not (tmp_path / "media").exists()
    with pytest.raises(NotImplementedError, match="Report files have no public URL"):
        storage.url(name)
