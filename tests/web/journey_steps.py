"""What the browser journeys (``test_journey_*.py``) share: the servers they run against, the
browser page they drive, what they check on every page they reach, and the form-filling steps
more than one journey takes.

- ``server``: the app as a site runs it (examples/settings.yaml, the suite's date), on a fresh
  SQLite database (``site_db``); ``demo_run``: ``cmvcds serve`` as ``make run`` starts it, with
  the demo registry;
- ``page``: an English-speaking chromium page at 1400 px that accepts downloads; axe-core is
  injected by the test itself, which the pages' CSP would refuse, so the context bypasses the CSP;
- ``check_page``: screenshots at 1400 and 390 px (``artifacts/journeys/``, not committed), no
  horizontal overflow at 390 px, no serious or critical axe-core violation at either width;
- the steps: a row of results, a course of therapy, a registry login, the demo users the README
  documents.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY
from tests.live_server import free_port, serving
from tests.web.axe import violations

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "journeys"
WIDE = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database of the ``server`` fixture."""
    return f"sqlite:///{tmp_path_factory.mktemp('journeys') / 'cmvcds.sqlite3'}"


@pytest.fixture(scope="module")
def server(site_db: str, knowledge: Knowledge) -> Iterator[str]:
    """The app as a site runs it: its settings file (examples/settings.yaml), the suite's date."""
    settings = Settings(
        database_url=site_db,
        examples_dir=ROOT / "examples",
        site_settings=ROOT / "examples" / "settings.yaml",
    )
    clinic = Clinic.from_settings(settings)
    clinic.today = lambda: TODAY
    app = create_app(settings, clinic)
    with serving(app) as url:
        yield url


def wait_until_serving(
    url: str, process: subprocess.Popen[Any], log: Path, seconds: float = 60
) -> None:
    """Until the health check of the ``cmvcds serve`` at ``url`` answers; the test fails with
    the server's ``log`` (and the server is killed) if it ends or ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url + "/api/v1/healthz", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"cmvcds serve did not start: {log.read_text()}")
        time.sleep(0.3)


def _make_run_flags() -> list[str]:
    """The flags the Makefile's ``run`` target passes to ``cmvcds serve``."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^run:.*\n(?:\t.*\n)*?\t.*cmvcds serve(?P<flags>[^\n]*)", makefile, re.M)
    assert found, "the Makefile's run target does not start cmvcds serve"
    return found.group("flags").split()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``cmvcds serve`` as ``make run`` starts it, on a fresh database in a fresh folder."""
    folder = tmp_path_factory.mktemp("make-run")
    port = free_port()
    env = dict(os.environ)
    env.pop("CMVCDS_DATABASE_URL", None)
    env["CMVCDS_EXAMPLES_DIR"] = str(ROOT / "examples")
    command = [str(Path(sys.executable).parent / "cmvcds"), "serve", "--port", str(port)]
    command += _make_run_flags()
    # stderr to a file, not a pipe nobody drains: the server logs one JSON line per request
    log = folder / "serve.log"
    process = subprocess.Popen(command, cwd=folder, env=env, stderr=log.open("w"), text=True)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(url, process, log)
    yield url
    process.terminate()
    process.wait(20)


@pytest.fixture(name="page")
def journey_page(browser: Browser) -> Iterator[Page]:
    """The ``page`` of a journey: an English-speaking browser (Italian comes from the page's
    switch)."""
    context = browser.new_context(
        viewport=WIDE, locale="en-GB", accept_downloads=True, bypass_csp=True
    )
    opened = context.new_page()
    yield opened
    context.close()


def check_page(page: Page, name: str) -> None:
    """Screenshots, overflow and axe-core on the page as it is now (left at 1400 px)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(WIDE)
    page.screenshot(path=str(SHOTS / f"{name}-1400.png"), full_page=True)
    found = violations(page)
    assert found == [], f"{name} at 1400 px: {found}"
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow} px wider than a 390 px screen"
    found = violations(page)
    assert found == [], f"{name} at 390 px: {found}"
    page.set_viewport_size(WIDE)


def fill_row(page: Page, i: int, day: str, code: str, **cells: str) -> None:
    """Row ``i`` of the case form's results: its date, its test and the ``cells`` given."""
    page.fill(f"#f-observations-{i}-date", day)
    page.select_option(f"#f-observations-{i}-code", code)
    for name, value in cells.items():
        if name in ("result", "specimen"):
            page.select_option(f"#f-observations-{i}-{name}", value)
        else:
            page.fill(f"#f-observations-{i}-{name}", value)


def therapy_row(page: Page, i: int, drug: str, dose: str, every: str, **cells: str) -> None:
    """Row ``i`` of the case form's courses, by mouth: the drug, its dose, the ``cells`` given
    (``indication``, ``start``, ``stop``, ``stop_reason``)."""
    page.select_option(f"#f-therapy-{i}-drug", drug)
    page.fill(f"#f-therapy-{i}-dose-mg", dose)
    page.fill(f"#f-therapy-{i}-every-h", every)
    page.select_option(f"#f-therapy-{i}-route", "oral")
    for name, value in cells.items():
        if name in ("indication", "stop_reason"):
            page.select_option(f"#f-therapy-{i}-{name.replace('_', '-')}", value)
        else:
            page.fill(f"#f-therapy-{i}-{name}", value)


def documented_demo_login(role: str) -> tuple[str, str]:
    """The demo user and password of ``role`` as the README documents them."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\|\s*`?{role}`?\s*\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|", text, re.M)
    assert row, f"README documents no demo user for {role}"
    return row.group(1), row.group(2)


def log_in(page: Page, username: str, password: str) -> None:
    """The registry's login form (English), and the user named in the registry's menu."""
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".registry-nav")).to_contain_text(username)
