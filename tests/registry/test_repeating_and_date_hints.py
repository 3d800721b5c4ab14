"""REDCap habits on the registry's pages (issue 15 item 8): "add another instance" of a repeating
form from the event grid, and the date logic said beside the fields before saving — in English
and in Italian.

The subject of ``web.make_site`` was diagnosed on 2026-01-10 and consented on 2026-01-12; the
pages' clock is 2026-03-02 (``web.T0``).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cmvcds.adapters.web.i18n import LocaleMiddleware
from cmvcds.adapters.web.registry import router
from cmvcds.adapters.web.registry.routes import now
from cmvcds.registry.access import SYSTEM
from cmvcds.registry.models import DataValue

from .conftest import World
from .web import csrf_of, log_in

LAB = "/registry/subjects/{key}/maternal_diagnosis/laboratory"


def _links(html: str, key: str, instrument: str) -> list[str]:
    return re.findall(rf'href="(/registry/subjects/{key}/maternal_diagnosis/{instrument}[^"]*)"', html)


def _stored(world: World, instrument: str) -> dict[tuple[int, str], str]:
    with world.registry.session(SYSTEM) as s:
        rows = s.scalars(select(DataValue).where(DataValue.instrument == instrument))
        return {(r.instance, r.field): r.value for r in rows if r.event == "maternal_diagnosis"}


def test_another_instance_of_a_repeating_form_is_added_from_the_event_grid(
    site: tuple[TestClient, Any, dict[str, str]], world: World
) -> None:
    client, _clock, keys = site
    key, lab = keys["a"], LAB.format(key=keys["a"])
    assert log_in(client, "entry_a") == 303
    assert _stored(world, "laboratory") == {}
    grid = client.get(f"/registry/subjects/{key}").text
    assert _links(grid, key, "laboratory") == [lab]  # nothing recorded: one form, no "add"
    first = client.get(lab)
    saved = client.post(lab + "?instance=1", data={
        "csrf": csrf_of(first.text), "f_lab_date": "2026-01-10", "f_lab_test": "1",
        "f_lab_value": "0.6"})  # fmt: skip
    assert saved.status_code == 200 and "Saved." in saved.text
    grid = client.get(f"/registry/subjects/{key}").text
    assert _links(grid, key, "laboratory") == [f"{lab}?instance=1", f"{lab}?instance=2"]
    add = re.search(r'<a class="add-instance" href="([^"]+)">\+ Add another laboratory</a>', grid)
    assert add and add[1] == f"{lab}?instance=2"
    page = client.get(add[1])
    assert "laboratory #2" in page.text and 'name="f_lab_date" value=""' in page.text
    saved = client.post(add[1], data={
        "csrf": csrf_of(page.text), "f_lab_date": "2026-02-20", "f_lab_test": "1",
        "f_lab_value": "0.7"})  # fmt: skip
    assert saved.status_code == 200 and "Saved." in saved.text
    assert _stored(world, "laboratory") == {
        (1, "lab_date"): "2026-01-10", (1, "lab_test"): "1", (1, "lab_value"): "0.6",
        (2, "lab_date"): "2026-02-20", (2, "lab_test"): "1", (2, "lab_value"): "0.7",
    }  # the second instance beside the first, which is untouched
    grid = client.get(f"/registry/subjects/{key}").text
    assert _links(grid, key, "laboratory") == [
        f"{lab}?instance=1", f"{lab}?instance=2", f"{lab}?instance=3"
    ]
    assert 'data-instance="2"' in grid
    # the saved instance offers the next one too
    assert f'href="{lab}?instance=3"' in saved.text


def test_a_form_that_does_not_repeat_has_one_instance(
    site: tuple[TestClient, Any, dict[str, str]], world: World
) -> None:
    client, _clock, keys = site
    assert log_in(client, "entry_a") == 303
    url = f"/registry/subjects/{keys['a']}/maternal_diagnosis/enrolment"
    page = client.get(url)
    assert "Add another" not in page.text and "add-instance" not in page.text
    refused = client.post(url + "?instance=2", data={"csrf": csrf_of(page.text),
                                                      "f_fetuses": "1"})  # fmt: skip
    assert refused.status_code == 422 and "only repeating instruments repeat" in refused.text
    assert all(n == 1 for n, _f in _stored(world, "enrolment"))


def _rules(html: str) -> dict[str, str]:
    return {
        field: " ".join(text.split())
        for field, text in re.findall(r'data-date-rule="(\w+)">(.*?)</small>', html, re.S)
    }


def test_the_date_logic_is_shown_beside_each_date_field(
    site: tuple[TestClient, Any, dict[str, str]],
) -> None:
    client, _clock, keys = site
    assert log_in(client, "entry_a") == 303
    base = f"/registry/subjects/{keys['a']}/maternal_diagnosis"
    infection = _rules(client.get(f"{base}/maternal_infection").text)
    assert infection["diagnosis_date"] == (
        "Date check: not in the future (hard check: the form is not saved)"
    )
    assert "not after Date of diagnosis of maternal primary infection (hard check" in (
        infection["onset_date"]
    )
    enrolment = _rules(client.get(f"{base}/enrolment").text)
    assert "not before the date consent was signed (soft check: the form is saved and a query" in (
        enrolment["enrolment_date"]
    )
    # a field with no date check has no line
    assert "maternal_birth_date" not in enrolment


def test_the_registry_form_speaks_italian(world: World) -> None:
    from .web import Clock, make_site

    _client, _clock, keys = make_site(world)
    app = FastAPI()
    app.include_router(router)
    app.state.registry = world.registry
    app.dependency_overrides[now] = Clock()
    app.add_middleware(LocaleMiddleware)
    client = TestClient(app, base_url="https://testserver", cookies={"lang": "it"})
    assert log_in(client, "entry_a") == 303
    page = client.get(f"/registry/subjects/{keys['a']}/maternal_diagnosis/maternal_infection")
    text = page.text
    assert "Data della diagnosi di infezione primaria materna" in text  # the field label
    assert "Sieroconversione in gravidanza" in text  # a choice label
    rules = _rules(text)
    assert rules["diagnosis_date"] == (
        "Controllo della data: non nel futuro (controllo bloccante: la scheda non viene salvata)"
    )
    refused = client.post(
        f"/registry/subjects/{keys['a']}/maternal_diagnosis/maternal_infection",
        data={"csrf": csrf_of(text), "f_diagnosis_date": "2026-03-03", "reason": "errore"},
    )
    assert refused.status_code == 422
    assert "Una data futura non può essere già stata osservata; controllare la data." in refused.text
    grid = client.get(f"/registry/subjects/{keys['a']}").text
    assert "Diagnosi materna" in grid and "laboratorio (vuota)" in grid
