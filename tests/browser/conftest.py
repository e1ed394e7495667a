"""Browser tests: Debian's Chromium, driven by Playwright, against the demo chat on real uvicorn servers.

Three server processes serve ``example/`` for the whole session, each over a seeded SQLite copy:

- ``chat``: the chat as ``make demo`` runs it, trusting the SPA host's origin;
- ``spa_host``: the same Django on another port. It plays the cross-origin single-page app's own
  origin: it serves ``spa.html`` and answers the SPA's token refreshes (the chat server has no CORS);
- ``short_lived``: the chat with 4-second access tokens, for the expiry test.

Screenshots go to ``test-artifacts/``. ``WARDEN_DOC_IMAGES=1`` also writes the README's images to
``docs/images/``. The suite never skips: without Chromium it fails and says how to install it.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.e2e import conftest as e2e_conftest
from tests.e2e.conftest import ROOT, LiveServer, start_server
from tests.e2e.example_project import demo_env, manage

EXAMPLE = ROOT / "example"
CHROMIUM = Path(os.environ.get("WARDEN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Seconds a page may take to show what a test waits for.
TIMEOUT = float(os.environ.get("WARDEN_BROWSER_TIMEOUT", "10"))
ARTIFACTS = ROOT / "test-artifacts"
DOC_IMAGES = ROOT / "docs" / "images"
PASSWORD = "warden-demo"
SHORT_LIFETIME = 4


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium against the demo chat")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


# Servers ------------------------------------------------------------------------------------------


@dataclass
class Site:
    """A demo server as a browser sees it, and its database."""

    server: LiveServer
    db_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def ws_origin(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def post(self, path: str, payload: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """POST JSON as a terminal client would (no cookies); return the decoded answer."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.url(path), data=json.dumps(payload).encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            result: dict[str, Any] = json.load(response)
        return result

    def get(self, path: str, token: str) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url(path), headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            result: dict[str, Any] = json.load(response)
        return result

    def jwt(self, username: str) -> dict[str, str]:
        """A SimpleJWT pair for ``username``: ``{"access": ..., "refresh": ...}``."""
        return self.post("/api/auth/jwt/", {"username": username, "password": PASSWORD})


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browser-db") / "migrated.sqlite3"
    manage(path, "migrate", "--noinput")
    return path


class Launcher:
    """Starts uvicorns serving the demo, each over its own seeded database; stops them all at the end."""

    def __init__(self, migrated_db: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.migrated_db = migrated_db
        self.tmp_path_factory = tmp_path_factory
        self.started: list[LiveServer] = []

    def start(self, name: str, **env: str) -> Site:
        """A new server; ``env`` adds variables (WARDEN_ALLOWED_ORIGINS, JWT_ACCESS_LIFETIME...)."""
        directory = self.tmp_path_factory.mktemp(name)
        db_path = Path(shutil.copy(self.migrated_db, directory / "db.sqlite3"))
        manage(db_path, "seed_demo")
        full_env = demo_env(db_path, **env)
        return Site(self._serve(directory / "server.log", full_env), db_path, full_env)

    def start_again(self, site: Site) -> None:
        """Start a stopped site's server again, on the same port and database (a deploy, a crash)."""
        port = site.server.port
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(e2e_conftest, "free_port", lambda: port)
            site.server = self._serve(site.server.log_path.with_suffix(".restarted.log"), site.env)

    def _serve(self, log_path: Path, env: dict[str, str]) -> LiveServer:
        live = start_server("uvicorn", log_path, env, app="chatsite.asgi:application", cwd=EXAMPLE)
        self.started.append(live)
        return live

    def stop_all(self) -> None:
        for live in self.started:
            live.stop()


@pytest.fixture(scope="session")
def launch(migrated_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    launcher = Launcher(migrated_db, tmp_path_factory)
    yield launcher
    launcher.stop_all()


@pytest.fixture(scope="session")
def spa_host(launch: Launcher) -> Site:
    """The cross-origin SPA's origin: serves spa.html and refreshes its tokens (short-lived ones)."""
    return launch.start("spa-host", JWT_ACCESS_LIFETIME=str(SHORT_LIFETIME))


@pytest.fixture(scope="session")
def chat(launch: Launcher, spa_host: Site) -> Site:
    """The chat, trusting the SPA host's origin (and only that one besides its own)."""
    return launch.start("chat", WARDEN_ALLOWED_ORIGINS=spa_host.origin)


@pytest.fixture(scope="session")
def short_lived(launch: Launcher, spa_host: Site) -> Site:
    """The chat with access tokens that live SHORT_LIFETIME seconds."""
    return launch.start(
        "short-lived", WARDEN_ALLOWED_ORIGINS=spa_host.origin, JWT_ACCESS_LIFETIME=str(SHORT_LIFETIME)
    )


def spa_url(host: str, chat: Site, tokens: dict[str, str], room: str = "lobby") -> str:
    """spa.html served from ``host`` (an origin), told where the chat is and holding ``tokens``."""
    fragment = urlencode({**tokens, "server": chat.ws_origin, "room": room})
    return f"{host}/static/chat/spa.html#{fragment}"


# Browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing. The browser tests drive Debian's Chromium (Playwright cannot "
            "download browsers here): `apt-get install chromium`, which .ci/run does.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Open browser contexts (separate cookie jars: separate people); all closed after the test."""
    contexts: list[BrowserContext] = []
    expect.set_options(timeout=TIMEOUT * 1000)

    def make() -> BrowserContext:
        context = browser.new_context(viewport={"width": 1100, "height": 680}, locale="en-GB")
        context.set_default_timeout(TIMEOUT * 1000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Save a page's screenshot as test-artifacts/<test>-<name>.png (and docs/images/<doc> on request)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page: Page, name: str, doc: str | None = None, *, full_page: bool = False) -> None:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=path, full_page=full_page)
        if doc and os.environ.get("WARDEN_DOC_IMAGES") == "1":
            DOC_IMAGES.mkdir(exist_ok=True)
            shutil.copy(path, DOC_IMAGES / doc)

    return take


def sign_in(context: BrowserContext, site: Site, username: str) -> Page:
    """Sign ``username`` in through the JSON API in ``context``; return a page showing the chat."""
    page = context.new_page()
    page.goto(site.url("/"))  # sets the CSRF cookie
    csrf = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "csrftoken")
    response = context.request.post(
        site.url("/api/auth/session/"),
        data={"username": username, "password": PASSWORD},
        headers={"X-CSRFToken": csrf, "Referer": site.url("/")},
    )
    assert response.ok, response.text()
    page.goto(site.url("/"))
    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    return page
