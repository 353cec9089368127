"""The weekly PDF's own copy of Noto Sans CJK SC, cut down to the characters a report uses.

WeasyPrint subsets every font it embeds, once per document, with HarfBuzz. For Noto Sans CJK
(one CFF face of 65,535 glyphs in a 19 MB collection) that costs 40-70 ms per face whatever the
text, and a report embeds two faces (regular and bold): a third of a small report's CPU time
(docs/scaling.md, "Monday morning"). Subsetting a face of 8,000 glyphs costs a fraction of it.

So each machine (each container) makes, once, a reduced copy of the SC regular and bold faces holding ASCII and
Latin, the punctuation, symbols and full-width forms a report prints, every character of the
Chinese catalog, and the 6,763 hanzi of GB 2312 (the characters of nearly all company and
person names). The glyphs are the font's own (same outlines, metrics and layout tables: HarfBuzz
subsets by character and keeps OpenType layout), so a report looks the same; the stylesheet lists
the copy first (`REPORT_FONT_FAMILY`) and Noto Sans CJK SC after it, so a character outside the
copy is still drawn from the full font (Pango falls back per character).

The copies are written once per machine, named by a digest of the source font
file (path, size, modification time) and of the character set, atomically (a temporary file
renamed into place), so two processes making them at once both end with the same file. Without
the source font, or without HarfBuzz's subsetter, nothing is made and the stylesheet's own list
applies (`report_font_face_css()` returns "").

The directory is `settings.REPORT_FONTS_DIR`, by default `var/fonts` (beside MEDIA_ROOT).
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

REPORT_FONT_FAMILY = "Inflow Report Sans SC"
SOURCE_FAMILY = "Noto Sans CJK SC"
WEIGHTS = {"normal": "Regular", "bold": "Bold"}
# Unicode blocks a report can print besides hanzi: Latin (names of foreign customers), punctuation,
# currency signs, letterlike symbols, number forms, arrows, mathematical operators (the minus sign),
# box drawing and geometric shapes (the KPI arrows), CJK symbols and punctuation, full-width forms.
BLOCKS = ((0x0020, 0x024F), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x218F), (0x2190, 0x21FF),
          (0x2200, 0x22FF), (0x2500, 0x25FF), (0x3000, 0x303F), (0xFF00, 0xFFEF))
CJK_UNIFIED = (0x4E00, 0x9FFF)
VERSION = 1  # change when the character set or the making changes: the file name follows


def report_characters() -> frozenset[int]:
    """The code points of the reduced copy: the blocks above, GB 2312's hanzi, the Chinese catalog."""
    points = {point for first, last in BLOCKS for point in range(first, last + 1)}
    for point in range(CJK_UNIFIED[0], CJK_UNIFIED[1] + 1):
        try:
            chr(point).encode("gb2312")
        except UnicodeEncodeError:
            continue
        points.add(point)
    points.update(_catalog_characters())
    return frozenset(points)


def _catalog_characters() -> set[int]:
    from django.utils import translation

    with translation.override("zh-hans"):
        catalog = translation.trans_real.translation("zh-hans")._catalog  # the merged .mo catalogs
    points: set[int] = set()
    for _key, message in catalog.items():
        points.update(ord(char) for char in message)
    return points


@dataclass(frozen=True)
class SourceFace:
    path: str
    index: int


def source_face(weight: str) -> SourceFace | None:
    """The file and face index fontconfig gives for Noto Sans CJK SC at `weight` ("normal", "bold")."""
    pattern = f"{SOURCE_FAMILY}:weight={'bold' if weight == 'bold' else 'regular'}"
    try:
        # fontconfig's own matcher (Pango finds fonts through it too); a fixed argument list, no shell
        found = subprocess.run(["fc-match", "--format=%{file}\n%{index}\n%{family}", pattern],  # noqa: S603,S607
                               capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path, index, families = [*found.split("\n"), "", "", ""][:3]
    if SOURCE_FAMILY not in families.split(",") or not Path(path).is_file():
        return None  # fontconfig substituted another family: no Noto Sans CJK on this machine
    return SourceFace(path, int(index or 0))


def _hb():
    """HarfBuzz and its subsetter through cffi (WeasyPrint's own dependency), or None."""
    import cffi

    ffi = cffi.FFI()
    ffi.cdef("""
        typedef struct hb_blob_t hb_blob_t; typedef struct hb_face_t hb_face_t;
        typedef struct hb_set_t hb_set_t; typedef struct hb_subset_input_t hb_subset_input_t;
        typedef uint32_t hb_codepoint_t;
        hb_blob_t * hb_blob_create_from_file_or_fail (const char *file_name);
        void hb_blob_destroy (hb_blob_t *blob);
        const char * hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
        hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);
        void hb_face_destroy (hb_face_t *face);
        hb_blob_t * hb_face_reference_blob (hb_face_t *face);
        unsigned int hb_face_get_glyph_count (const hb_face_t *face);
        void hb_set_add (hb_set_t *set, hb_codepoint_t codepoint);
        hb_subset_input_t * hb_subset_input_create_or_fail (void);
        void hb_subset_input_destroy (hb_subset_input_t *input);
        hb_set_t * hb_subset_input_unicode_set (hb_subset_input_t *input);
        hb_face_t * hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
    """)
    try:
        harfbuzz = ffi.dlopen("libharfbuzz.so.0")
        subsetter = ffi.dlopen("libharfbuzz-subset.so.0")
        for name in ("hb_blob_create_from_file_or_fail", "hb_face_create", "hb_set_add"):
            getattr(harfbuzz, name)  # an older HarfBuzz lacks some: AttributeError here, not mid-way
        for name in ("hb_subset_input_create_or_fail", "hb_subset_input_unicode_set", "hb_subset_or_fail"):
            getattr(subsetter, name)
    except (OSError, AttributeError):
        return None
    return ffi, harfbuzz, subsetter


def subset_font(source: SourceFace, points: frozenset[int]) -> bytes | None:
    """The face `source` reduced to `points` (HarfBuzz: outlines, metrics and layout tables kept)."""
    bindings = _hb()
    if bindings is None:
        return None
    ffi, harfbuzz, subsetter = bindings
    blob = harfbuzz.hb_blob_create_from_file_or_fail(os.fsencode(source.path))
    if blob == ffi.NULL:
        return None
    face = harfbuzz.hb_face_create(blob, source.index)
    subset_input = subsetter.hb_subset_input_create_or_fail()
    if subset_input == ffi.NULL or harfbuzz.hb_face_get_glyph_count(face) == 0:  # no memory; no such face
        if subset_input != ffi.NULL:
            subsetter.hb_subset_input_destroy(subset_input)
        harfbuzz.hb_face_destroy(face)
        harfbuzz.hb_blob_destroy(blob)
        return None
    try:
        unicodes = subsetter.hb_subset_input_unicode_set(subset_input)
        for point in sorted(points):
            harfbuzz.hb_set_add(unicodes, point)
        reduced = subsetter.hb_subset_or_fail(face, subset_input)
        if reduced == ffi.NULL:
            return None
        try:
            data = harfbuzz.hb_face_reference_blob(reduced)
            length = ffi.new("unsigned int *")
            content = bytes(ffi.buffer(harfbuzz.hb_blob_get_data(data, length), length[0]))
            harfbuzz.hb_blob_destroy(data)
        finally:
            harfbuzz.hb_face_destroy(reduced)
    finally:
        subsetter.hb_subset_input_destroy(subset_input)
        harfbuzz.hb_face_destroy(face)
        harfbuzz.hb_blob_destroy(blob)
    return content or None


def _file_name(source: SourceFace, weight: str, points: frozenset[int]) -> str:
    stat = os.stat(source.path)
    digest = hashlib.sha256(repr((VERSION, source.path, source.index, stat.st_size, stat.st_mtime_ns,
                                  sorted(points))).encode()).hexdigest()[:16]
    return f"inflow-report-sans-sc-{WEIGHTS[weight].lower()}-{digest}.otf"


def report_fonts_dir() -> Path:
    """`settings.REPORT_FONTS_DIR`, by default `fonts` beside MEDIA_ROOT (var/fonts: not served)."""
    configured = getattr(settings, "REPORT_FONTS_DIR", None)
    return Path(configured) if configured else Path(str(settings.MEDIA_ROOT)).parent / "fonts"


def report_font_file(weight: str, directory: Path | None = None) -> Path | None:
    """The reduced copy of the `weight` face, made on first use; None without the source font."""
    source = source_face(weight)
    if source is None:
        return None
    try:
        points = report_characters()
        directory = Path(directory or report_fonts_dir()).resolve()
        path = directory / _file_name(source, weight, points)
        if path.is_file():
            return path
        content = subset_font(source, points)
        if content is None:
            log.warning("weekly report font: could not subset %s; the full font is used", source.path)
            return None
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(directory, path, content)
    except (OSError, ValueError) as error:  # a folder not writable, a full disk: the full font still works
        log.warning("weekly report font: %s; the full font is used", error)
        return None
    return path


def _write_atomically(directory: Path, path: Path, content: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".tmp", delete=False) as handle:
        temporary = handle.name
    try:
        Path(temporary).write_bytes(content)
        os.chmod(temporary, 0o644)  # NamedTemporaryFile makes it private; web and worker may run as others
        os.replace(temporary, path)  # atomic: a concurrent maker ends with the same file
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise


@cache
def report_font_face_css() -> str:
    """@font-face rules naming the reduced copies `REPORT_FONT_FAMILY`; "" when none could be made.
    Cached for the process: the files only change with the source font or VERSION."""
    rules = []
    for weight in WEIGHTS:
        path = report_font_file(weight)
        if path is None:
            return ""  # both weights or neither: a bold made up from the regular would look wrong
        rules.append(f'@font-face {{ font-family: "{REPORT_FONT_FAMILY}"; font-weight: {weight}; '
                         f'src: url("{path.as_uri()}"); }}')
    return "\n".join(rules)
