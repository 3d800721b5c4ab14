"""Each role is offered exactly the registry pages it may use (issue 15, item 8).

The menu is derived from ``access.GRANTS``; these tests crawl the pages as each role, as a
user would by clicking: every registry link shown answers something other than 403, and every
page of the registry that answers 403 for the role is linked from none of the pages it saw.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cmvcds.adapters.web.registry.routes import MENU
from cmvcds.registry.access import GRANTS, Permission
from cmvcds.registry.models import Role

from .conftest import World
from .web import log_in

LINK = re.compile(r'href="(/registry/[^"#?]*)')
PAGES = [href for href, _label, _needs in MENU] + ["/registry/enrol"]
USERS = ["entry_a", "pi_a", "monitor", "dm", "stat", "admin"]


def crawl(client: TestClient, limit: int = 40) -> dict[str, tuple[int, str]]:
    """Every registry page reachable by links from the dashboard (at most ``limit``)."""
    seen: dict[str, tuple[int, str]] = {}
    todo = ["/registry/"]
    while todo and len(seen) < limit:
        path = todo.pop(0)
        if path in seen:
            continue
        response = client.get(path)
        seen[path] = (response.status_code, response.text)
        todo += [link for link in LINK.findall(response.text) if link not in seen]
    return seen


@pytest.mark.parametrize("username", USERS)
def test_every_link_shown_opens_and_no_refused_page_is_linked(
    site: tuple[TestClient, Any, dict[str, str]], username: str
) -> None:
    client = site[0]
    assert log_in(client, username) == 303
    seen = crawl(client)
    linked = {link for _s, text in seen.values() for link in LINK.findall(text)}
    refused = [path for path, (status, _t) in seen.items() if status == 403]
    assert refused == [], f"{username} was shown links to pages that refuse them: {refused}"
    for path in PAGES:
        if client.get(path).status_code == 403:
            assert path not in linked, f"{username} is offered {path}, which refuses them"


def test_the_menu_follows_the_permission_table(
    site: tuple[TestClient, Any, dict[str, str]], world: World
) -> None:
    """The probe's finding: site data entry was offered Analyses, Audit, Review and Exports."""
    client = site[0]
    assert log_in(client, "entry_a") == 303
    page = client.get("/registry/subjects").text
    nav = page.split('<nav class="registry-nav', 1)[1].split("</nav>", 1)[0]
    for absent in (
        "/registry/analyses",
        "/registry/audit",
        "/registry/review",
        "/registry/exports",
        "/registry/admin",
    ):
        assert f'href="{absent}"' not in nav
    assert client.get("/registry/exports").status_code == 403
    for href, _label, needs in MENU:  # same table as the services' GRANTS
        expected = bool(needs & GRANTS[Role.SITE_DATA_ENTRY])
        assert (f'href="{href}"' in nav) is expected, href
    assert Permission.ENTER_DATA in GRANTS[Role.SITE_DATA_ENTRY]


def test_an_investigator_is_offered_only_the_site_export_profile(
    site: tuple[TestClient, Any, dict[str, str]],
) -> None:
    client = site[0]
    assert log_in(client, "pi_a") == 303
    form = client.get("/registry/exports").text
    assert 'value="site"' in form and 'value="central"' not in form
    assert log_in(client, "dm") == 303
    form = client.get("/registry/exports").text
    assert 'value="central"' in form and 'value="site"' not in form
