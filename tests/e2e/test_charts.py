"""Issue 14 item 5 in a real browser: every chart draws (ECharts canvas, not blank) on the dashboard,
the forecast page and the credit file, at desktop and phone width, in English and Simplified Chinese,
with no console error and no CSP violation; the DSO chart's last point is the headline figure.
Screenshots go to $INFLOW_SCREENSHOTS or /tmp/inflow-shots (never the repository)."""

import datetime as dt
import os
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from credit import services as credit_services
from forecasting import services as forecasting_services
from forecasting.cashflow import forecast_snapshot_store
from receivables import services
from tenancy.models import UserProfile
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, CustomerFactory, make_invoice, make_payment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TODAY = dt.datetime(2026, 3, 20, 4, 0, tzinfo=dt.UTC)
SHOTS = Path(os.environ.get("INFLOW_SCREENSHOTS", Path(tempfile.gettempdir()) / "inflow-shots"))


@pytest.fixture
def book(organization, admin_user, settings):
    """A year of sales and payments in CNY and USD, a forecast snapshot of 4 March with a week since
    passed (accuracy), and a customer scored three times."""
    # The clock is frozen in March 2026: cookies that last for the browser session only, so the browser
    # (on the real clock) keeps them.
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None
    admin_user.set_password(PASSWORD)
    admin_user.save()
    east = CustomerFactory(organization=organization, name="上海华东贸易有限公司")
    north = CustomerFactory(organization=organization, name="Beijing Parts Co")
    usd = CustomerFactory(organization=organization, name="Pacific Imports LLC", currency="USD")
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2025, 1, 1),
                         rate=Decimal("7.1234"))
    with time_machine.travel(dt.datetime(2026, 3, 4, 4, 0, tzinfo=dt.UTC), tick=False):
        for i in range(12):
            month = dt.date(2025, 3, 1) + dt.timedelta(days=31 * i)
            month = month.replace(day=1)
            make_invoice(organization, east, amount=f"{9000 + 411 * i}.50", issue_date=month.replace(day=5),
                         due_date=month.replace(day=5) + dt.timedelta(days=30))
            make_invoice(organization, north, amount=f"{2000 + 97 * i}.25", issue_date=month.replace(day=12),
                         due_date=month.replace(day=12) + dt.timedelta(days=45))
            make_invoice(organization, usd, amount=f"{300 + 13 * i}.10", issue_date=month.replace(day=20),
                         due_date=month.replace(day=20) + dt.timedelta(days=30), currency="USD")
            if i < 10:
                make_payment(organization, east, amount=f"{8000 + 400 * i}.00", received_on=month.replace(day=25))
                make_payment(organization, north, amount=f"{1500 + 90 * i}.00", received_on=month.replace(day=27))
        make_invoice(organization, north, amount="4200.00", issue_date=dt.date(2026, 2, 25),
                     due_date=dt.date(2026, 3, 10))
        forecasting_services.predictions_refresh(organization=organization, as_of=dt.date(2026, 3, 4))
        forecast_snapshot_store(organization=organization, as_of=dt.date(2026, 3, 4))
    make_payment(organization, north, amount="3900.00", received_on=dt.date(2026, 3, 12))
    for day in (dt.date(2025, 9, 30), dt.date(2025, 12, 31), dt.date(2026, 3, 15)):
        credit_services.customer_score(organization=organization, customer=east, actor=None, as_of=day)
    return {"east": east}


CHARTS = {  # page -> the charts it must draw
    "dashboard": ["aging", "dso", "forecast"],
    "forecast": ["forecast", "accuracy"],
    "credit": ["score"],
}


def _check_charts(page, kinds: list[str], width: int) -> None:
    page.wait_for_function("n => document.querySelectorAll('[data-chart-drawn]').length >= n", arg=len(kinds))
    page.wait_for_timeout(1200)  # the entry animation (ECharts) ends; the screenshot shows the final chart
    drawn = sorted(page.eval_on_selector_all("[data-chart-drawn]", "els => els.map(e => e.dataset.chart)"))
    assert drawn == sorted(kinds)
    for kind in kinds:
        chart = page.locator(f"[data-chart={kind}]")
        box = chart.bounding_box()
        assert box["width"] > 200 and box["height"] >= 200, (kind, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (kind, box, width)  # fits the phone
        # the canvas is there, as wide as its box, and painted (pixels that are not transparent)
        painted = chart.evaluate("""el => {
            const canvas = el.querySelector('canvas');
            if (!canvas) return -1;
            const ctx = canvas.getContext('2d');
            const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
            return n;
        }""")
        assert painted > 2000, (kind, painted)
        series = chart.evaluate("el => echarts.getInstanceByDom(el).getOption().series.map(s => s.data.length)")
        assert series and all(n > 0 for n in series), (kind, series)
        assert chart.get_attribute("aria-label"), kind  # ECharts' aria description for screen readers


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("width", [1280, 390])
def test_charts_draw_at_desktop_and_phone_width_in_both_languages(browser, live_server, book, admin_user, language,
                                                                   width):
    UserProfile.objects.update_or_create(user=admin_user, defaults={"language": language})
    context = browser.new_context(base_url=live_server.url, locale="en-US",
                                  viewport={"width": width, "height": 900}, device_scale_factor=1)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = []
    page.on("console", lambda msg: problems.append(f"{msg.type}: {msg.text}")
            if msg.type == "error" or "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with time_machine.travel(TODAY, tick=True):
            sign_in(page, admin_user.username, PASSWORD)
            urls = {"dashboard": reverse("dashboard") + "?as_of=2026-03-20", "forecast": reverse("forecasting:forecast"),
                    "credit": reverse("credit:customer", args=[book["east"].pk])}
            for name, url in urls.items():
                response = page.goto(url)
                assert response.status == 200, url
                assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
                assert page.locator("html").get_attribute("lang") == language
                _check_charts(page, CHARTS[name], width)
                page.screenshot(path=str(SHOTS / f"charts-{name}-{language}-{width}.png"), full_page=True)
                if name == "dashboard":
                    _check_dso_ends_on_the_headline(page)
                    _check_labels(page, language, width)
                    if width > 390:
                        _check_redrawn_when_narrowed(page, language)
        assert problems == []
    finally:
        context.close()


def _check_dso_ends_on_the_headline(page) -> None:
    headline = page.locator("[data-testid=kpi-dso-standard]").inner_text().split()[0]
    embedded = page.evaluate("() => JSON.parse(document.getElementById('dso-chart-data').textContent)")
    assert embedded["standard"][-1] == headline
    drawn = page.evaluate("() => echarts.getInstanceByDom(document.querySelector('[data-chart=dso]'))"
                          ".getOption().series[0].data.at(-1)")
    assert Decimal(str(drawn)) == Decimal(headline)
    assert embedded["dates"][-1] == "2026-03-20"


def _check_labels(page, language: str, width: int) -> None:
    option = page.evaluate("() => { const o = echarts.getInstanceByDom(document.querySelector('[data-chart=dso]'))"
                           ".getOption(); return {x: o.xAxis[0].data, legend: o.series.map(s => s.name),"
                           " y: o.yAxis[0].name}; }")
    aging = page.evaluate("() => { const o = echarts.getInstanceByDom(document.querySelector('[data-chart=aging]'))"
                          ".getOption(); return {labels: o.xAxis[0].data, name: o.xAxis[0].name}; }")
    if language == "zh-hans":
        assert option["x"][-1].endswith("3月"), option["x"]  # "26年3月"
        assert option["legend"] == ["标准法", "倒推法"]
        assert option["y"] == "天"
        assert aging["labels"][0] == "未到期", aging
        assert all("Current" not in label and "overdue" not in label for label in aging["labels"]), aging
    else:
        assert option["x"][-1] == "Mar 26", option["x"]
        assert option["legend"] == ["Standard", "Countback"]
        assert option["y"] == "days"
        assert aging["labels"][0] == "Current", aging
    # a narrow chart (a phone, or the half-width card at 1280) shows the ranges only, under the axis name
    narrow = page.locator("[data-chart=aging]").evaluate("el => el.clientWidth < 480")
    assert narrow or width > 480
    if narrow:
        assert aging["labels"][1] == "1-30" and aging["name"] == ("逾期天数" if language == "zh-hans" else "Days overdue")
    else:
        assert aging["labels"][1] == ("逾期 1-30 天" if language == "zh-hans" else "1-30 days overdue"), aging


def _check_redrawn_when_narrowed(page, language: str) -> None:
    """A window narrowed to a phone's width (rotation, split screen): the charts follow without a reload."""
    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_function("() => document.querySelector('[data-chart=dso] canvas').getBoundingClientRect().right <= 390")
    page.wait_for_timeout(300)
    for kind in ("aging", "dso", "forecast"):
        box = page.locator(f"[data-chart={kind}]").bounding_box()
        canvas = page.locator(f"[data-chart={kind}] canvas").bounding_box()
        assert box["x"] + box["width"] <= 390.5 and canvas["x"] + canvas["width"] <= 390.5, (kind, box, canvas)
    name = page.evaluate("() => echarts.getInstanceByDom(document.querySelector('[data-chart=aging]'))"
                         ".getOption().xAxis[0].name")
    assert name == ("逾期天数" if language == "zh-hans" else "Days overdue")
    page.screenshot(path=str(SHOTS / f"charts-dashboard-{language}-narrowed-to-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
