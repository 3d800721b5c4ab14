"""No identity reaches a log when a database write fails (probe12 finding 1, review11 W2).

The probe terminated PostgreSQL backends while saving and found, in the server's JSON log,
SQLAlchemy's error text with its bound parameters: the hospital record number being enrolled
and CRF free text. Here a real write fails on each database (a trigger or constraint put in
the registry's own tables refuses the value, so the driver raises on the INSERT as it would
on a lost connection or a refused row), the page is served by uvicorn for real, and every log
line written — the app's error handler, uvicorn's own "Exception in ASGI application", the
root logger — through the shipped ``JsonFormatter`` must not hold the value. PostgreSQL's own
message quotes the refused row ("Failing row contains (…)"), so hiding SQLAlchemy's
parameters alone would not be enough: the formatter also withholds database messages.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from cmvcds.adapters.api.logs import JsonFormatter, safe_exception_text
from cmvcds.adapters.api.problems import install_problem_handlers
from cmvcds.adapters.web.i18n import LocaleMiddleware
from cmvcds.adapters.web.registry import router
from tests.live_server import serving

from .conftest import PASSWORD, World
from .helpers import enrol

MRN = "LEAK-7781-ZQ"
FREE_TEXT = "Headache 4471 QZXW"
CONSENT = {"information_sheet_version": "IS-3.0", "signed_on": "2026-03-01",
           "written_648_consent": "1"}  # fmt: skip
LOGGERS = ("", "cmvcds", "uvicorn", "uvicorn.error", "sqlalchemy")


@contextmanager
def captured() -> Iterator[io.StringIO]:
    """Every log line, as ``cmvcds serve`` writes it (``JsonFormatter``); attached once uvicorn
    has configured its own loggers (its configuration replaces their handlers)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield stream
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def _refuse_writes(world: World) -> None:
    """Make the database itself refuse the identity link and the CRF value (a real failure)."""
    engine = world.registry.engine
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for table, column, value in [("identity_links", "hospital_record_number", MRN),
                                         ("data_values", "value", FREE_TEXT)]:  # fmt: skip
                connection.execute(text(
                    f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                    f"WHEN NEW.{column} = '{value}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                ))  # fmt: skip
        else:
            connection.execute(text(
                f"ALTER TABLE identity_links ADD CONSTRAINT refuse_mrn "
                f"CHECK (hospital_record_number <> '{MRN}')"
            ))  # fmt: skip
            connection.execute(text(
                f"ALTER TABLE data_values ADD CONSTRAINT refuse_text CHECK (value <> '{FREE_TEXT}')"
            ))  # fmt: skip


def _app(world: World) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.add_middleware(LocaleMiddleware)
    install_problem_handlers(app)  # as create_app: the 500 handler that logs
    app.state.registry = world.registry
    return app


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match[1]


def test_a_failed_write_logs_no_record_number_or_value(world: World) -> None:
    with world.registry.session(world.entry_a) as s:
        key = enrol(s, world.entry_a, mrn="A-77")
    _refuse_writes(world)
    with (
        serving(_app(world)) as base,
        captured() as stream,
        httpx.Client(base_url=base, headers={"Connection": "close"}) as client,
    ):
        login = client.get("/registry/login")
        client.post("/registry/login", data={"username": "entry_a", "password": PASSWORD,
                                             "csrf": _csrf(login.text)})  # fmt: skip
        page = client.get("/registry/enrol")
        refused = client.post("/registry/enrol", data={
            "csrf": _csrf(page.text), "kind": "mother", "hospital_record_number": MRN, **CONSENT,
        })  # fmt: skip
        url = f"/registry/subjects/{key}/valacyclovir_start/adverse_event?instance=1"
        form = client.get(url)
        hidden = dict(
            re.findall(
                r'<input type="hidden" name="(version|seen|o_\w+)" value="([^"]*)"', form.text
            )
        )
        saved = client.post(url, data={
            **hidden, "csrf": _csrf(form.text), "f_ae_term": FREE_TEXT, "f_ae_onset": "2026-02-03",
            "f_ae_severity": "2", "f_ae_serious": "0", "f_ae_relation": "2", "f_ae_action": "1",
        })  # fmt: skip
        log = stream.getvalue()
    assert refused.status_code == 500 and saved.status_code == 500, (
        refused.status_code,
        saved.status_code,
    )
    # the failures were logged (so the test looks where a leak would be) …
    assert log.count("IntegrityError") >= 2, log[-3000:]
    assert "Exception in ASGI application" in log, log[-3000:]
    # … and neither the record number nor the free text is in any line
    assert MRN not in log
    assert FREE_TEXT not in log and "4471 QZXW" not in log
    with world.registry.session(world.entry_a) as s:
        assert s.execute(text("SELECT count(*) FROM identity_links WHERE hospital_record_number = :m"),
                         {"m": MRN}).scalar() == 0  # fmt: skip


def test_the_engine_itself_hides_parameters(world: World) -> None:
    """``hide_parameters``: even an error text formatted elsewhere (a CLI) holds no value."""
    _refuse_writes(world)
    with pytest.raises(Exception) as caught, world.registry.session(world.entry_a) as s:
        enrol(s, world.entry_a, mrn=MRN)
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(caught.value)
    assert MRN not in safe_exception_text(caught.value)
