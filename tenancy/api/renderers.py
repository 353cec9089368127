"""The API's JSON renderer: DRF's JSONRenderer, encoded by orjson.

Same output as DRF's: compact separators, UTF-8 (not \\u escapes), U+2028/U+2029 escaped, and
every type orjson does not encode the way DRF does (datetimes, dates, times, Decimals, lazy
strings, dataclasses...) handed to DRF's own encoder. Anything orjson refuses (an integer
beyond 64 bits, a key of an odd type) and pretty-printing (`Accept: ...; indent=4`) go through
DRF's renderer unchanged. tests/api/test_fast_representation.py compares the two."""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


class FastJSONRenderer(JSONRenderer):
    _default = staticmethod(JSONEncoder().default)

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if (self.ensure_ascii or not self.compact or not self.strict
                or self.get_indent(accepted_media_type, renderer_context or {}) is not None):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            content = orjson.dumps(data, default=self._default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80" in content:  # both separators start with these bytes
            content = content.replace(_LINE_SEPARATOR, b"\\u2028").replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
        return content
