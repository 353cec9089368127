"""Where uploads (credit documents, import files) are stored: under MEDIA_ROOT, which no URL
serves (not even under DEBUG), each file under a random name, so a path is never guessable and
a file is only ever handed out by a page that checked the organization first."""

from __future__ import annotations

import re
import secrets
from pathlib import PurePosixPath

from django.core.files.storage import FileSystemStorage

_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")


class PrivateFileSystemStorage(FileSystemStorage):
    def get_valid_name(self, name: str) -> str:
        """A random name keeping only a plain extension of the uploaded one (`.pdf`, `.xlsx`)."""
        suffix = PurePosixPath(name).suffix.lower()
        return secrets.token_urlsafe(24) + (suffix if _SUFFIX.match(suffix) else "")

    def url(self, name):
        raise ValueError("Uploads have no public URL: serve them through an organization-checked view.")
