"""The CDS route's kept base URL is Starlette's ``request.base_url``, whatever the request."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from cmvcds.adapters.cdshooks.routes import _base_url


def _scope(**parts: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "path": "/cds-services/cmv-pregnancy-valacyclovir",
        "root_path": "",
        "query_string": b"a=1",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json")],
    }
    scope.update(parts)
    return scope


@pytest.mark.parametrize(
    "parts",
    [
        {},
        {"scheme": "https", "headers": [(b"host", b"cds.example.org")]},
        {"headers": [(b"host", b"EHR.Example.org:8443"), (b"host", b"other.example.org")]},
        {"headers": []},
        {"headers": [], "server": None},
        {"server": ["10.0.0.1", 80], "headers": []},
        {"root_path": "/cmvcds", "path": "/cmvcds/cds-services/x"},
        {"root_path": "/cmvcds/", "app_root_path": "/outer"},
        {"scheme": "https", "server": ("h", 443), "headers": []},
    ],
)
def test_the_kept_base_url_is_starlettes(parts: dict[str, Any]) -> None:
    scope = _scope(**parts)
    expected = str(Request(scope).base_url).rstrip("/")
    assert _base_url(Request(scope), None) == expected
    assert _base_url(Request(scope), None) == expected  # again, from the cache


def test_the_public_url_wins() -> None:
    assert _base_url(Request(_scope()), "https://cds.example.org/") == "https://cds.example.org"
