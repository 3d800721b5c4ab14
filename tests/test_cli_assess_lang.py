"""``cmvcds assess --lang it`` (the web and the API have a language choice; the CLI too): every
format says the same assessment in Italian — the clinical texts from the pack's
``clinical_texts_it``, the report's words from the gettext catalogue — and the codes, dates,
doses and citations are those of the English answer. The case is the AIFA 648/96 vignette of
``examples/pregnancy.yaml`` (primary infection in the first trimester: valacyclovir 8 g/day)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.adapters.web.texts import translate

ROOT = Path(__file__).resolve().parents[1]
PREGNANCY = str(ROOT / "examples" / "pregnancy.yaml")


def _run(*args: str) -> str:
    done = CliRunner().invoke(app, ["assess", PREGNANCY, *args])
    assert done.exit_code == 0, done.stderr
    return done.stdout


def _numbers(text: str) -> list[str]:
    return sorted(re.findall(r"\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)?", text))


def test_json_in_italian_is_the_same_document_with_its_texts_translated() -> None:
    english = json.loads(_run("--format", "json"))
    italian = json.loads(_run("--format", "json", "--lang", "it"))
    assert english == json.loads(_run("--format", "json", "--lang", "en"))
    for en, it in zip(english["decisions"], italian["decisions"], strict=True):
        assert (en["id"], en["outcome"], en["citations"]) == (it["id"], it["outcome"], it["citations"])
        assert it["reasons"] == [translate(r, "it") or r for r in en["reasons"]]
        assert it["reasons"] != en["reasons"]
        for a, b in zip(en["reasons"], it["reasons"], strict=True):
            assert _numbers(a) == _numbers(b) or translate(a, "it") is None
    valacyclovir = [g for g in italian["regimens"] if g["drug"] == "valacyclovir"]
    assert valacyclovir and valacyclovir[0]["dose_mg"] == english["regimens"][0]["dose_mg"]
    assert [m["item"] for m in italian["missing"]] == [m["item"] for m in english["missing"]]
    assert [a["code"] for a in italian["alerts"]] == [a["code"] for a in english["alerts"]]


def test_text_report_in_italian() -> None:
    english, italian = _run(), _run("--lang", "it")
    assert "DECISIONS" in english and "DECISIONS" not in italian
    assert "DECISIONI" in italian and "valutazione cmvcds" in italian
    assert "Supporto alla decisione" in italian or "giudizio clinico" in italian
    # the dose and dates of the answer are those of the English one
    assert set(re.findall(r"\d{4}-\d{2}-\d{2}", english)) == set(
        re.findall(r"\d{4}-\d{2}-\d{2}", italian)
    )


def test_html_report_in_italian() -> None:
    italian = _run("--format", "html", "--lang", "it")
    assert '<html lang="it"' in italian or "lang=it" in italian
    assert "valaciclovir" in italian.lower()


def test_fhir_bundle_in_italian_states_its_language() -> None:
    english = json.loads(_run("--format", "fhir"))
    italian = json.loads(_run("--format", "fhir", "--lang", "it"))
    assert "language" not in english and italian["language"] == "it"
    group = lambda b: next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "RequestGroup")  # noqa: E731
    en_actions, it_actions = group(english)["action"], group(italian)["action"]
    assert [a["title"] for a in en_actions] == [a["title"] for a in it_actions]
    assert [a["description"] for a in en_actions] != [a["description"] for a in it_actions]
