"""Every part of the site draws the same frame: the demo banner and the whole menu appear on
the clinician's pages, the registry's and Ask's alike (an outside probe found the banner and
the Registry/Ask entries missing on the registry and Ask pages)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

PAGES = ["/", "/dose", "/resistance", "/knowledge", "/ask", "/registry/login"]


@pytest.mark.parametrize("path", PAGES)
def test_the_demo_banner_and_the_whole_menu_on_every_part(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    assert "data-demo-banner" in page.text  # the tests' app is the demo (Settings' default)
    assert 'href="/registry"' in page.text and 'href="/ask"' in page.text


def test_a_deployment_shows_no_demo_banner(tmp_path, knowledge) -> None:  # type: ignore[no-untyped-def]
    from cmvcds.adapters.api.app import create_app
    from cmvcds.adapters.api.service import Clinic
    from cmvcds.adapters.api.settings import Settings
    from tests.conftest import TODAY

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", demo_cases=False,
                        mode="production")  # fmt: skip
    with TestClient(create_app(settings, Clinic(knowledge, today=lambda: TODAY))) as deployed:
        page = deployed.get("/registry/login")
        assert page.status_code == 200 and "data-demo-banner" not in page.text
