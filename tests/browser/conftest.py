"""Real-browser tests: Debian's chromium driven by Playwright against Django's live
server, with a real Celery worker on Redis where a job has to run."""
import os
from pathlib import Path

import pytest

from tests.integration.conftest import broker, start_worker  # noqa: F401 - shared fixtures

CHROMIUM = os.environ.get("PRESSROOM_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags chromium keeps dialling out, and this machine's
# closed network refuses it (see the env notes).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
# still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make services` (or .ci/services.sh) installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server):
    """A fresh browser context (its own cookies) per user, signed in through the login page."""
    contexts = []

    def open_as(username: str, password: str = "correct horse battery staple"):
        context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    yield open_as
    for context in contexts:
        context.close()


# Every visible form control must have an accessible name, and every page one <h1> and a
# language; checked on each page the tests photograph.
UNLABELLED_CONTROLS_JS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id || el.outerHTML.slice(0, 80))"""


def assert_accessible_basics(page) -> None:
    assert page.evaluate(UNLABELLED_CONTROLS_JS) == [], f"unlabelled form controls on {page.url}"
    assert page.locator("h1").count() == 1, f"{page.url} should have exactly one <h1>"
    assert page.evaluate("document.documentElement.lang"), "the page must declare its language"


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        if "/admin/" not in page.url:
            assert_accessible_basics(page)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
