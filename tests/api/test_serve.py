"""``cmvcds serve``'s app: demo cases loaded once from examples/, the database created on start."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.cli.main import app as cli
from cmvcds.errors import SettingsError
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_demo_cases_are_loaded_once(tmp_path: Path, knowledge: Knowledge) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", examples_dir=EXAMPLES)
    for _ in range(2):
        app = create_app(settings, Clinic(knowledge, today=lambda: TODAY))
        cases = app.state.store.all()
    demo = sorted(f for f in EXAMPLES.glob("*.yaml") if f.name != "settings.yaml")  # a case each
    assert len(cases) == len(demo) >= 1
    assert {c.origin for c in cases} == {f"demo:{f.name}"[:40] for f in demo}
    with TestClient(app) as client:
        page = client.get("/")
    assert "demo-pregnancy-01" in page.text


def test_serve_is_a_command() -> None:
    names = [c.name for c in cli.registered_commands]
    assert "serve" in names


def test_site_settings_file_is_applied(tmp_path: Path, knowledge: Knowledge) -> None:
    (tmp_path / "site.yaml").write_text("kidney_dpos_rneg_drug: letermovir\n")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        demo_cases=False,
        site_settings=tmp_path / "site.yaml",
    )
    clinic = Clinic.from_settings(settings)
    assert clinic.site.values == {"kidney_dpos_rneg_drug": "letermovir"}
    case = {
        "id": "ktx", "context": "transplant", "assessed_on": "2026-11-21",
        "patient": {"sex": "female", "birth_date": "1970-02-03", "weight_kg": 68},
        "transplant": {"organ": "kidney", "date": "2026-11-01", "donor_cmv_igg": "positive", "recipient_cmv_igg": "negative"},
    }  # fmt: skip
    with TestClient(create_app(settings, clinic)) as client:
        document = client.post("/api/v1/assess", json=case).json()
    assert document["settings"] == {"kidney_dpos_rneg_drug": "letermovir"}
    (tmp_path / "bad.yaml").write_text("no_such_setting: 1\n")
    bad = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", site_settings=tmp_path / "bad.yaml"
    )
    with pytest.raises(SettingsError):
        Clinic.from_settings(bad)


def test_serve_sets_tcp_nodelay_on_each_connection() -> None:
    """Without it, uvicorn --workers answers after the client's 40 ms delayed ACK (bench_cds)."""
    import asyncio
    import socket

    import uvicorn
    from uvicorn.importer import import_from_string

    from cmvcds.adapters.api.server import PROTOCOL, NoDelayH11Protocol

    class Transport(asyncio.Transport):
        def __init__(self, sock: socket.socket) -> None:
            super().__init__()
            self.sock = sock

        def get_extra_info(self, name: str, default: object = None) -> object:
            extra = {
                "socket": self.sock,
                "peername": ("127.0.0.1", 1),
                "sockname": ("127.0.0.1", 2),
            }
            return extra.get(name, default)

        def pause_reading(self) -> None:
            pass

        def resume_reading(self) -> None:
            pass

    config = uvicorn.Config(app=lambda scope, receive, send: None, log_level="warning")
    config.load()
    for protocol_class in {NoDelayH11Protocol, import_from_string(PROTOCOL)}:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0) as sock:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            state = uvicorn.server.ServerState()
            protocol = protocol_class(config=config, server_state=state, app_state={})
            protocol.connection_made(Transport(sock))
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1, protocol_class
