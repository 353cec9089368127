"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server."""

import pytest
from playwright.sync_api import expect

# Assertions wait as long as actions do (the contexts' default timeout): a live preview answered by a
# test server busy with the first request's one-off work (below) took longer than expect's 5 s once.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session", autouse=True)
def _server_warm():
    """What a production server process does at start (config.server.server_ready): the project's
    translatable messages read once, not in whichever test's request first shows stored text."""
    from tenancy.retranslate import project_msgids

    project_msgids()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[data-testid=login-submit]")
