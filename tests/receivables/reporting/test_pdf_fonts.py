"""The weekly PDF's reduced copy of Noto Sans CJK SC (receivables/reporting/fonts.py): made once, the
font's own glyphs, every character a report prints; what it lacks still comes from the full font."""

import datetime as dt
import io

from fontTools.ttLib import TTFont

from receivables.reporting import fonts
from receivables.reporting.pdf import weekly_report_pdf
from receivables.reporting.selectors import weekly_report_data
from tests.factories import CustomerFactory, make_invoice

from .conftest import AS_OF
from .test_pdf import pdf_text
from .test_pdf_renderer import embedded_fonts

RARE = "堃"  # U+5803, common in given names, not in GB 2312


def test_the_copy_holds_gb2312_latin_the_catalog_and_the_fonts_own_glyphs(tmp_path):
    # when
    path = fonts.report_font_file("normal", tmp_path)
    # then
    copy = TTFont(path)
    source = fonts.source_face("normal")
    full = TTFont(source.path, fontNumber=source.index, lazy=True)
    copy_map, full_map = copy.getBestCmap(), full.getBestCmap()
    for char in "账龄周报应收逾期上海华东贸易有限公司Ab9,.%−€¥（）：":  # hanzi, Latin, minus, full-width
        assert ord(char) in copy_map, char
        # same advance width: the glyph is the font's own (outlines are desubroutinized, not redrawn)
        assert copy["hmtx"][copy_map[ord(char)]][0] == full["hmtx"][full_map[ord(char)]][0], char
    catalog = fonts._catalog_characters()
    assert catalog and all(point in copy_map for point in catalog if point in full_map)
    assert ord(RARE) not in copy_map and ord(RARE) in full_map
    # plus the glyphs its layout features reach from those (HarfBuzz keeps the closure)
    assert 8_000 < copy["maxp"].numGlyphs < 16_000 < full["maxp"].numGlyphs
    assert path.stat().st_size < 5_000_000


def test_it_is_made_once_and_reused(tmp_path):
    first = fonts.report_font_file("bold", tmp_path)
    made = first.stat().st_mtime_ns
    second = fonts.report_font_file("bold", tmp_path)
    assert second == first and second.stat().st_mtime_ns == made
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temporary file left
    assert oct(first.stat().st_mode & 0o777) == "0o644"


def test_without_the_source_font_nothing_is_made_and_the_stylesheet_list_applies(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "SOURCE_FAMILY", "No Such Font Family Inflow")
    assert fonts.source_face("normal") is None
    assert fonts.report_font_file("normal", tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_a_report_embeds_the_copy_and_falls_back_to_the_full_font_for_a_rare_character(organization, customer,
                                                                                      book):
    # given: a report whose text the copy covers
    plain = weekly_report_pdf(weekly_report_data(organization, AS_OF), "zh-hans")
    assert embedded_fonts(plain.content) == {"Inflow-Report-Sans-SC", "Inflow-Report-Sans-SC-Bold"}
    # when: a customer's name holds a character outside the copy
    rare = CustomerFactory(organization=organization, name=f"王{RARE}科技有限公司", currency="CNY")
    make_invoice(organization, rare, number="INV-RARE-1", amount="1000.00", issue_date=dt.date(2026, 1, 5),
                 due_date=dt.date(2026, 2, 4))
    report = weekly_report_pdf(weekly_report_data(organization, AS_OF), "zh-hans")
    # then: that character comes from Noto Sans CJK SC, the rest from the copy, and the text reads back
    assert {"Inflow-Report-Sans-SC", "Noto-Sans-CJK-SC"} <= embedded_fonts(report.content)
    assert f"王{RARE}科技有限公司" in pdf_text(report.content)
    assert len(report.content) < 400_000


def test_the_copy_makes_the_pdf_smaller_than_the_full_font_did(organization, customer, book, monkeypatch):
    from receivables.reporting import pdf as pdf_module

    data = weekly_report_data(organization, AS_OF)
    with_copy = weekly_report_pdf(data, "en")
    # the same report with the full font only (a renderer of its own, as on a machine without the copy)
    monkeypatch.setattr(pdf_module, "report_font_face_css", lambda: "")
    monkeypatch.setattr(pdf_module._renderers, "renderer", None)
    full = weekly_report_pdf(data, "en")
    assert embedded_fonts(full.content) == {"Noto-Sans-CJK-SC", "Noto-Sans-CJK-SC-Bold"}
    assert pdf_text(full.content) == pdf_text(with_copy.content)
    assert len(with_copy.content) < len(full.content) / 2
    assert io.BytesIO(with_copy.content).read(5) == b"%PDF-"


def test_a_folder_that_cannot_be_written_leaves_the_full_font_and_no_error(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    assert fonts.report_font_file("normal", blocked / "fonts") is None
    assert blocked.read_text() == "a file where the folder should be"


def test_a_face_index_that_does_not_exist_is_refused_not_crashed():
    source = fonts.source_face("normal")
    assert fonts.subset_font(fonts.SourceFace(source.path, 999), frozenset({ord("A")})) is None
