"""``cmvcds explain congenital|pregnancy --lang it`` (debt23 item 7): the overview in Italian.

The same overview as the English one: every title and sentence from the pack's
``clinical_texts_it`` (none left in English for these two populations), the text's own words
from the gettext catalogue, and the same citations, verification flags, knowledge version and
numbers (doses, days, weeks, thresholds are computed and carried over, never re-typed)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app


def _run(*args: str) -> str:
    done = CliRunner().invoke(app, ["explain", *args])
    assert done.exit_code == 0, done.stderr
    return done.stdout


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+", text)  # 1.73 and 1,73 read alike: the digits are what is carried


@pytest.mark.parametrize("context", ["congenital", "pregnancy"])
def test_the_overview_in_italian_is_the_same_overview(context: str) -> None:
    english = json.loads(_run(context, "--format", "json"))
    italian = json.loads(_run(context, "--format", "json", "--lang", "it"))
    assert english == json.loads(_run(context, "--format", "json", "--lang", "en"))
    assert italian["title"] != english["title"]
    assert italian["knowledge"] == english["knowledge"]
    assert italian["references"] == english["references"]
    for en, it in zip(english["sections"], italian["sections"], strict=True):
        assert it["title"] != en["title"]
        for a, b in zip(en["statements"], it["statements"], strict=True):
            assert (a["citations"], a["verified"]) == (b["citations"], b["verified"])
            assert b["text"] != a["text"], f"not translated: {a['text']!r}"
            assert _numbers(b["text"]) == _numbers(a["text"]), (a["text"], b["text"])


def test_the_text_overview_says_its_own_words_in_italian() -> None:
    text = _run("pregnancy", "--lang", "it")
    assert text.startswith("CMV in gravidanza (valaciclovir secondo il protocollo AIFA 648/96)")
    assert "Valaciclovir 2000 mg ogni 6 h (8000 mg al giorno)" in text
    assert "(non ancora verificata)" in text
    assert "\nBibliografia\n" in text and "\nReferences\n" not in text
    assert "conoscenze cmvcds" in text


NOTICE = "Questa panoramica è disponibile solo in inglese"


@pytest.mark.parametrize("context", ["transplant", "hiv", "immunocompetent", "immunocompromised"])
def test_an_overview_not_in_italian_is_english_with_an_italian_notice(context: str) -> None:
    """fixr23a: never English and Italian mixed sentence by sentence; the notice says why."""
    english_text = _run(context)
    italian_text = _run(context, "--lang", "it")
    first, _, rest = italian_text.partition("\n")
    assert first.startswith(NOTICE) and "congenital, pregnancy" in first
    assert rest.lstrip("\n") == english_text
    done = CliRunner().invoke(app, ["explain", context, "--format", "json", "--lang", "it"])
    assert json.loads(done.stdout) == json.loads(_run(context, "--format", "json"))
    assert NOTICE in done.stderr


def test_the_help_names_every_overview() -> None:
    done = CliRunner().invoke(app, ["explain", "--help"])
    said = " ".join(done.stdout.split())
    assert "congenital" in said and "pregnancy" in said
    assert "debt23" not in said
