"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Fixtures (mark every test module here ``pytestmark = pytest.mark.browser``, so that
``-m 'not browser'`` leaves them out):

- ``page``: a new browser context and page per test, 1280×800, UTC, en-US. Every
  console error and uncaught exception of the page lands in ``browser_errors``, and the
  test fails at teardown if any is left there: a CSP violation is a console error, so
  every page a test opens is checked against the policy. A test that expects an error
  removes it from the list.
- ``live_url(path)``: the live server's address for a path (the live server implies
  ``transactional_db``: data made in the test is visible to it).
- ``member``: the owner of "Tasty Chips Co." with one campaign, "Spicy Jalapeño Chips"
  (``herald.testing.factories``); ``campaign`` is that campaign.
- ``sign_in(page, user, password=PASSWORD)``: signs in through the real login form.
- ``shot(page, name, sizes=("desktop", "mobile"))``: full-page screenshots,
  ``artifacts/screenshots/<test>-<name>-desktop.png`` (1280×800) and ``-mobile.png``
  (390×844) (``HERALD_ARTIFACTS_DIR`` moves ``artifacts/``); the page is left at the
  size it had.
- ``settle(page)``: waits for the load event and two painted frames.

Playwright never downloads a browser here: it launches the system ``chromium``
(``bin/herald test`` installs Debian's package when it is missing), or
``HERALD_CHROMIUM``.

Playwright's sync API keeps an asyncio loop marked as running in the main thread while
it is alive, which Django's async-safety check takes for async code calling the ORM. So
the browser lives for the ``tests/browser`` package only, and only then is
``DJANGO_ALLOW_ASYNC_UNSAFE`` set: the rest of the suite runs without either.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    ViewportSize,
    sync_playwright,
)

from herald.accounts.actors import Actor
from herald.campaigns.models import Campaign
from herald.testing import factories

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = Path(os.environ.get("HERALD_ARTIFACTS_DIR", REPO_ROOT / "artifacts"))
SCREENSHOTS_DIR = ARTIFACTS_DIR / "screenshots"

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
MOBILE: ViewportSize = {"width": 390, "height": 844}

# This machine's network is closed: no background traffic, no component updates.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"  # what herald.testing.factories.make_user sets


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = os.environ.get("HERALD_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "The browser tests need Chromium from Debian's package 'chromium' "
            "(apt-get install chromium; `bin/herald test` installs it when run as root), "
            "or HERALD_CHROMIUM=/path/to/chromium. Skip them with -m 'not browser'.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="package")
def browser(chromium_executable: str) -> Iterator[Browser]:
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        # launch() gives Chromium a new, empty profile (--user-data-dir) every time.
        launched = playwright.chromium.launch(
            executable_path=chromium_executable,
            headless=True,
            chromium_sandbox=False,
            args=CHROMIUM_ARGS,
        )
        yield launched
        launched.close()
    finally:
        playwright.stop()
        _forget_playwright_loop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _forget_playwright_loop() -> None:
    """After Playwright stops, the main thread must not look as if it ran a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    asyncio.events._set_running_loop(None)


@dataclass
class BrowserError:
    kind: str  # "console" or "pageerror"
    text: str
    url: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text} ({self.url})"


@pytest.fixture
def browser_errors() -> list[BrowserError]:
    """Console errors and uncaught exceptions of ``page``; clear it to accept some."""
    return []


@pytest.fixture
def live_url(live_server: Any) -> Callable[[str], str]:
    def url(path: str = "/") -> str:
        return f"{live_server.url}{path}"

    return url


@pytest.fixture
def page(browser: Browser, browser_errors: list[BrowserError], live_server: Any) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(10_000)
    new_page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            url = message.location.get("url", "")
            browser_errors.append(BrowserError("console", message.text, url))

    def on_page_error(error: Error) -> None:
        browser_errors.append(BrowserError("pageerror", str(error), new_page.url))

    new_page.on("console", on_console)
    new_page.on("pageerror", on_page_error)
    yield new_page
    context.close()
    if browser_errors:
        pytest.fail(
            "The page logged errors:\n" + "\n".join(f"  {error}" for error in browser_errors),
            pytrace=False,
        )


@pytest.fixture
def member(transactional_db: Any) -> Actor:
    """The owner of "Tasty Chips Co.", which has one campaign ready to launch."""
    organization = factories.make_organization("Tasty Chips Co.")
    actor = factories.make_actor(organization)
    factories.make_launchable_campaign(actor, name="Spicy Jalapeño Chips")
    return actor


@pytest.fixture
def campaign(member: Actor) -> Campaign:
    return Campaign.objects.get(organization=member.organization)


@pytest.fixture
def sign_in(live_url: Callable[[str], str]) -> Callable[..., None]:
    def sign_in(page: Page, user: Any, password: str = PASSWORD) -> None:
        page.goto(live_url("/login/"))
        page.get_by_label("Email or username").fill(user.get_username())
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()

    return sign_in


def settle(page: Page) -> None:
    """Wait until the page is loaded and two frames have been painted."""
    page.wait_for_load_state("load")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


SIZES: dict[str, ViewportSize] = {"desktop": DESKTOP, "mobile": MOBILE}


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[..., list[Path]]:
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")

    def shot(page: Page, name: str, sizes: tuple[str, ...] = ("desktop", "mobile")) -> list[Path]:
        SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
        original = page.viewport_size or DESKTOP
        paths = []
        for label in sizes:
            page.set_viewport_size(SIZES[label])
            settle(page)
            path = SCREENSHOTS_DIR / f"{test_name}-{name}-{label}.png"
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        page.set_viewport_size(original)
        settle(page)
        return paths

    return shot
