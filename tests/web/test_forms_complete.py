"""Every form of every context can be filled from the page: every select offers the words the
parser accepts, every input has a label, and every shipped example case (examples/*.yaml, one
per clinical situation) can be typed into the form of its context and gives the same assessment
as the file — so nothing the parser needs is missing from the page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from fastapi.testclient import TestClient

from cmvcds.adapters.web.forms import BOOL_FIELDS, LIST_FIELDS
from cmvcds.adapters.web.vocab import CHOICES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if p.name != "settings.yaml")


class FormFields(HTMLParser):
    """The named inputs and selects of a page, the options of each select, and the labels."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}  # name → type
        self.ids: dict[str, str] = {}  # id → name
        self.options: dict[str, list[str]] = {}
        self.labelled: set[str] = set()
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("input", "select", "textarea") and a.get("name"):
            self.inputs[a["name"]] = a.get("type", tag)
            if a.get("id"):
                self.ids[a["id"]] = a["name"]
            if a.get("aria-label"):
                self.labelled.add(a["name"])
        if tag == "select":
            self._select = a.get("name")
            self.options.setdefault(self._select or "", [])
        elif tag == "option" and self._select is not None and a.get("value"):
            self.options[self._select].append(a["value"])
        elif tag == "label" and a.get("for"):
            self.labelled.add(a["for"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def fields_of(html: str) -> FormFields:
    parser = FormFields()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("context", CHOICES["context"])
def test_every_select_has_options_and_every_input_a_label(client: TestClient, context: str) -> None:
    page = client.get(f"/cases/new?context={context}")
    assert page.status_code == 200
    form = fields_of(page.text)
    assert form.options, "the form has selects"
    empty = [name for name, options in form.options.items() if not options]
    assert empty == [], f"{context}: selects without options: {empty}"
    visible = {n for n, kind in form.inputs.items() if kind != "hidden"}
    labelled = {form.ids.get(i, i) for i in form.labelled}
    assert visible - labelled == set(), f"{context}: inputs without a label"


def test_the_dose_form_selects_have_options(client: TestClient) -> None:
    form = fields_of(client.get("/dose").text)
    for name in ("drug", "indication", "organ", "region", "patient.sex", "patient.dialysis"):
        assert form.options.get(name), f"dose form: {name} has no options"
    assert set(CHOICES["organ"]) <= set(form.options["organ"])
    for name in ("crcl_measured", "egfr", "patient.birth_date", "weight_basis"):
        assert name in form.inputs, f"dose form: no {name} input (the CLI has it)"
    visible = {n for n, kind in form.inputs.items() if kind != "hidden"}
    labelled = {form.ids.get(i, i) for i in form.labelled}
    assert visible - labelled == set()


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A case mapping as the form's (name, text) pairs."""
    if isinstance(value, dict):
        return [
            pair
            for key, item in value.items()
            for pair in _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        ]
    leaf = prefix.rsplit(".", 1)[-1]
    if isinstance(value, list) and leaf in LIST_FIELDS:
        return [(prefix, ", ".join(str(v) for v in value))] if value else []
    if isinstance(value, list):
        return [pair for i, item in enumerate(value) for pair in _flatten(item, f"{prefix}[{i}]")]
    if isinstance(value, bool):
        assert leaf in BOOL_FIELDS, f"{prefix}: a yes/no the form does not know"
        return [(prefix, "yes" if value else "no")]
    return [(prefix, str(value))]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_can_be_typed_into_its_form(client: TestClient, path: Path) -> None:
    raw = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
    pairs = [(k, v) for k, v in _flatten(raw) if k != "format"]
    rows = len(raw.get("observations") or []) or 1
    form = fields_of(client.get(f"/cases/new?context={raw['context']}&rows={rows}").text)
    missing = [name for name, _ in pairs if name not in form.inputs]
    assert missing == [], f"{path.name}: the {raw['context']} form has no input for {missing}"
    for name, text in pairs:
        if name in form.options:
            assert text in form.options[name], f"{name}: {text!r} is not offered"
    posted = client.post(
        "/cases",
        content=urlencode([*pairs, ("format", "cmvcds-case/1")]),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert posted.status_code == 303, re.findall(r"<li>([^<]*)</li>", posted.text)
    typed = client.get(posted.headers["location"] + "/assessment.json").json()
    expected = client.post("/api/v1/assess", json=raw).json()
    for key in ("decisions", "regimens", "schedule", "missing", "findings"):
        assert typed[key] == expected[key], f"{path.name}: {key} differs when typed"


def test_the_dose_form_refuses_words_its_selects_do_not_offer(client: TestClient) -> None:
    form = {"drug": "valganciclovir", "indication": "induction", "patient.age_years": "60"}
    for name, word in (("region", "xx"), ("weight_basis", "lean")):
        page = client.post("/dose", data=form | {name: word})
        assert page.status_code == 422
        assert f"{name}: &#39;{word}&#39; is not one of" in page.text
