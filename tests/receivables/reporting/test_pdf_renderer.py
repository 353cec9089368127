"""The PDF renderer a thread reuses across reports (font configuration, parsed stylesheet): the
same report comes out the same whatever was rendered before it, in either language, and the
PDF embeds one font family."""

import io
import threading

from pypdf import PdfReader

from receivables.reporting import pdf as pdf_module
from receivables.reporting.pdf import pdf_renderer, pdf_renderer_warm_up, weekly_report_pdf
from receivables.reporting.selectors import weekly_report_data

from .conftest import AS_OF
from .test_pdf import pdf_text


def embedded_fonts(content: bytes) -> set[str]:
    """Font names without their subset tag, e.g. "Inflow-Report-Sans-SC-Bold"."""
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def test_a_thread_reuses_its_renderer_and_threads_do_not_share_one():
    mine = pdf_renderer()
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(pdf_renderer()))
    thread.start()
    thread.join()
    assert pdf_renderer() is mine
    assert theirs[0] is not mine
    assert theirs[0].font_config is not mine.font_config


def test_reused_renderer_does_not_carry_one_language_into_the_next(organization, customer, book):
    # given
    data = weekly_report_data(organization, AS_OF)
    english_first = weekly_report_pdf(data, "en")
    # when
    chinese = weekly_report_pdf(data, "zh-hans")
    english_after = weekly_report_pdf(data, "en")
    # then
    english_text, chinese_text = pdf_text(english_after.content), pdf_text(chinese.content)
    assert english_text == pdf_text(english_first.content)
    assert "Weekly aging report" in english_text and "账龄周报" not in english_text
    assert "账龄周报" in chinese_text and "上海华东贸易有限公司" in chinese_text
    assert embedded_fonts(english_after.content) == embedded_fonts(english_first.content)


def test_the_report_embeds_one_family_regular_and_bold_chart_included(organization, customer, book):
    pdf = weekly_report_pdf(weekly_report_data(organization, AS_OF), "zh-hans")
    assert embedded_fonts(pdf.content) == {"Inflow-Report-Sans-SC", "Inflow-Report-Sans-SC-Bold"}  # fonts.py
    assert "按账龄段" in pdf_text(pdf.content)  # the chart's heading; its bucket labels use the same face


def test_warm_up_keeps_no_renderer_for_the_worker_children_to_inherit(organization, customer, book):
    # given: a thread that warms up (as the worker's parent does before forking)
    kept = []

    def warm_up_then_look():
        pdf_renderer_warm_up()
        kept.append(getattr(pdf_module._renderers, "renderer", None))

    thread = threading.Thread(target=warm_up_then_look)
    thread.start()
    thread.join()
    # then: no font configuration was kept, and reports still render
    assert kept == [None]
    pdf = weekly_report_pdf(weekly_report_data(organization, AS_OF), "zh-hans")
    assert "上海华东贸易有限公司" in pdf_text(pdf.content)


def test_a_prepared_child_keeps_its_renderer_and_reports_come_out_the_same(organization, customer, book):
    # given: a report rendered by a thread that was never prepared
    data = weekly_report_data(organization, AS_OF)
    plain = []
    thread = threading.Thread(target=lambda: plain.append(weekly_report_pdf(data, "zh-hans")))
    thread.start()
    thread.join()

    # when: another thread is prepared (as a worker's child is after the fork), then renders
    prepared = []

    def prepare_then_render():
        renderer = pdf_module.pdf_renderer_prepare()
        prepared.append((renderer is pdf_renderer(), weekly_report_pdf(data, "zh-hans")))

    thread = threading.Thread(target=prepare_then_render)
    thread.start()
    thread.join()

    # then: the renderer was kept for the report, and the report is the same (text, fonts, pages)
    kept, report = prepared[0]
    assert kept
    assert pdf_text(report.content) == pdf_text(plain[0].content)
    assert embedded_fonts(report.content) == embedded_fonts(plain[0].content) == {"Inflow-Report-Sans-SC",
                                                                                 "Inflow-Report-Sans-SC-Bold"}
    assert report.pages == plain[0].pages
