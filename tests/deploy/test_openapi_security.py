"""The OpenAPI document states how each operation is authenticated, and the server agrees: an
operation marked with a scheme refuses a call without credentials (production mode)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from cmvcds.registry import migrate
from cmvcds.registry.db import make_engine
from tests.cdshooks.test_services import load

SERVICE = "/cds-services/cmv-pregnancy-valacyclovir"


def test_security_schemes_declared_and_enforced(tmp_path: Path, knowledge: Knowledge) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(database_url=url, demo_cases=False, mode="production")
    with TestClient(create_app(settings, Clinic(knowledge))) as client:
        schema = client.get("/openapi.json").json()
        schemes = schema["components"]["securitySchemes"]
        assert schemes["registryBearer"] == {
            "type": "http", "scheme": "bearer",
            "description": "Registry session token from POST /api/v1/registry/sessions.",
        }  # fmt: skip
        assert schemes["cdsHooksJwt"]["bearerFormat"] == "JWT"
        paths = schema["paths"]
        assert paths["/cds-services/{service_id}"]["post"]["security"] == [{"cdsHooksJwt": []}]
        assert "security" not in paths["/cds-services"]["get"]  # discovery is public
        assert "security" not in paths["/api/v1/registry/sessions"]["post"]  # the login itself
        assert "security" not in paths["/api/v1/healthz"]["get"]
        assert "security" not in paths["/readyz"]["get"]
        secured = [
            (path, method)
            for path, operations in paths.items()
            for method, operation in operations.items()
            if operation.get("security")
        ]
        assert ("/api/v1/assess", "post") in secured
        assert ("/api/v1/registry/subjects", "get") in secured
        # every secured GET without path parameters refuses an anonymous call
        for path, method in secured:
            if method == "get" and "{" not in path:
                assert client.get(path).status_code == 401, path
        assert client.post("/api/v1/assess", json={}).status_code == 401
    # a demo instance's clinician API is open, and its document says so; the registry is not
    demo = Settings(database_url=url, demo_cases=False, mode="demo")
    with TestClient(create_app(demo, Clinic(knowledge))) as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert "security" not in paths["/api/v1/assess"]["post"]
        assert paths["/api/v1/registry/subjects"]["get"]["security"]
        assert client.get("/api/v1/registry/subjects").status_code == 401
        # a well-formed hook call without its JWT is refused (the body is the sandbox's request)
        refused = client.post(SERVICE, json=load("pregnancy-valacyclovir.request.json"))
        assert refused.status_code == 401
