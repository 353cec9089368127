"""Phone width: no page is wider than a 390 px viewport (issue 14 item 11).

Every page of the project (tests/pages.py: every URL pattern with real ids of the seeded demo book)
is opened in Chromium at 390x844 by the demo admin (so every control shows), in English and in
Simplified Chinese, the customer portal as an English and a Chinese customer. The page itself must
not scroll sideways: document.scrollingElement.scrollWidth <= 390. A wide table inside its own
scroll box is fine (it does not widen the document). A screenshot of each page is written to
/tmp/inflow-shots/phone/<language>/ for a person to look at (not into the repository); a failing
page also gets a full-page shot and names the elements that stick out."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from tests.pages import page_urls, rows_for_every_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 390, 844
SHOTS = Path(os.environ.get("INFLOW_SCREENSHOTS") or Path(tempfile.gettempdir()) / "inflow-shots") / "phone"

# The elements whose right edge passes the viewport and that no scroll box of their own contains:
# the culprits of a horizontal overflow, outermost first, named for the failure message.
CULPRITS_JS = """(width) => {
  const scrolls = (el) => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
      return false; };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1 || scrolls(el)) continue;
    if (el.parentElement && out.some(o => o.el === el.parentElement)) continue;
    out.push({el, text: name(el) + ' (' + Math.round(r.right) + 'px)'});
  }
  return out.slice(0, 6).map(o => o.text);
}"""


# The portal's actions (dispute, promise a date) must be on screen, not in a part of the table that
# scrolls or is cut off at the right (they were: issue 14 item 11).
PORTAL_ACTIONS_JS = """(width) => [...document.querySelectorAll('[data-testid=portal-invoices] summary')]
  .filter(el => el.getBoundingClientRect().right > width).map(el => el.textContent.trim())"""


def _phone(browser, live_server, user=None):
    """A phone-sized browser page, signed in as `user` (a visitor when None)."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": WIDTH, "height": HEIGHT},
                                  device_scale_factor=1, is_mobile=True, has_touch=True)
    context.set_default_timeout(60_000)
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
    return context.new_page()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:80]


def _pages_only(member, visitor, urls) -> tuple[list, list[str]]:
    """The addresses that answer a GET with an HTML page (not a file, not a POST-only action), asked
    without navigating (a navigation to a download or a bodiless 405 leaves the tab on Chromium's
    error page, which then interrupts the next navigation); and the ones that fail (500)."""
    pages, failed = [], []
    for target in urls:
        page = visitor if target.name.startswith("portal:") else member
        response = page.request.get(target.url, max_redirects=0)
        if response.status >= 500:
            failed.append(f"{target} answered {response.status}")
        elif response.status == 200 and "text/html" in response.headers.get("content-type", ""):
            pages.append(target)
        response.dispose()
    return pages, failed


def _walk(member, visitor, urls, shots: Path) -> tuple[list[str], int]:
    """Open each page (the portal as a visitor, the rest as the member); returns the ones wider than
    the viewport (with their culprits) and how many were read."""
    from playwright.sync_api import Error as PlaywrightError

    shutil.rmtree(shots, ignore_errors=True)  # this run's screenshots only
    shots.mkdir(parents=True)
    wide, read = [], 0
    for number, target in enumerate(urls):
        page = visitor if target.name.startswith("portal:") else member
        try:
            response = page.goto(target.url, wait_until="load")
        except PlaywrightError as error:
            wide.append(f"{target} did not open: {str(error).splitlines()[0]}")
            continue
        if response is None or response.status != 200:
            wide.append(f"{target} answered {response.status if response else 'nothing'}")
            continue
        read += 1
        shot = shots / f"{number:03d}-{_slug(target.name)}.png"
        page.screenshot(path=shot)
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        if scroll_width > WIDTH:
            page.screenshot(path=shot.with_name(shot.stem + "-full.png"), full_page=True)
            culprits = page.evaluate(CULPRITS_JS, WIDTH)
            wide.append(f"{target} is {scroll_width}px wide: {', '.join(culprits)}")
        if target.name == "portal:home" and (cut := page.evaluate(PORTAL_ACTIONS_JS, WIDTH)):
            wide.append(f"{target}: actions cut off at the right: {', '.join(cut)}")
    return wide, read


@pytest.fixture
def demo_book(transactional_db):
    import io

    from django.core.management import call_command
    from django.db import transaction

    with transaction.atomic():  # one commit, not one per row (the live server reads committed rows)
        call_command("seed_demo", stdout=io.StringIO())


def test_no_page_is_wider_than_a_phone(browser, live_server, demo_book, settings, tmp_path):
    from receivables.models import Customer
    from tenancy.models import Organization
    from tenancy.services import user_language_set

    demo = Organization.objects.get(slug="demo")
    admin = get_user_model().objects.get(username="demo-admin")
    settings.MEDIA_ROOT = tmp_path
    rows_for_every_page(demo, admin)
    portal = {language: Customer.objects.filter(organization=demo, language=language).order_by("pk").first()
              for language in ("en", "zh-hans")}
    wide, read = [], 0
    for language in ("en", "zh-hans"):
        # given the admin reading the UI in this language, on a phone
        user_language_set(user=admin, language=language)
        member, visitor = _phone(browser, live_server, admin), _phone(browser, live_server)
        # when every page is opened (the portal by a customer speaking this language)
        urls, failed = _pages_only(member, visitor, page_urls(demo, portal_customers=[portal[language]]))
        found, opened = _walk(member, visitor, urls, SHOTS / language)
        found += failed
        member.context.close()
        visitor.context.close()
        wide += [f"[{language}] {line}" for line in found]
        read += opened
    # then every page was read and none scrolls sideways
    assert read >= 120, f"only {read} pages opened"
    assert wide == [], "pages wider than 390px:\n" + "\n".join(wide)
