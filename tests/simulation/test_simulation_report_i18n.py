"""The screening-simulation report in Italian and English (issue 21; issue 15 item 2): its own
words and the strategies' from the gettext catalogue, the parameters' and populations' labels
from the pack's ``clinical_texts_it``, chart labels and numbers in the language; the sources
cited as written. ``cmvcds simulate --lang it``."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.adapters.report.dossier import in_language
from cmvcds.adapters.report.simulation_html import ROWS, render_html, render_text
from cmvcds.adapters.web import i18n
from cmvcds.adapters.web.texts import translate
from cmvcds.knowledge import load_knowledge
from cmvcds.knowledge.schemas.simulation import SeroprevalenceTable
from cmvcds.simulation import SimulationResult, simulate
from cmvcds.simulation.parameters import parameter_rows
from cmvcds.simulation.strategies import STRATEGIES

KNOWLEDGE = load_knowledge()
POPULATIONS = KNOWLEDGE.table("simulation_seroprevalence", SeroprevalenceTable).populations
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    """A small run with every part of the report: PSA (CEAC, plane), tornado, a population."""
    return simulate(["first-trimester"], n=2_000, seed=5, psa_draws=2, psa_n=200, tornado=True, tornado_n=200,
                    knowledge=KNOWLEDGE, population="apulia-under-25")  # fmt: skip


def _catalogue() -> dict[str, str]:
    with i18n.PO_FILE.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and isinstance(m.id, str)}


def _read(page: str) -> str:
    """What a reader sees: the text, the charts' labels (matplotlib writes each label's text in a
    comment beside its glyphs), without the style, the SVG metadata, the ids in ``<code>`` and
    the cited sources."""
    page = re.sub(r"<style>.*?</style>|<metadata>.*?</metadata>|<code>.*?</code>", " ", page, flags=re.S)
    text = html.unescape(re.sub(r"<(?!!--)[^>]*>|<!--|-->", " ", page))
    for source in KNOWLEDGE.sources.values():
        text = text.replace(source.citation(), " ")
    return " ".join(text.split())


def _english_left(text: str) -> list[str]:
    """The catalogue's English found in ``text``: each literal part of a msgid that its Italian
    does not keep, as whole words."""
    found = []
    for msgid, msgstr in _catalogue().items():
        if msgstr == msgid:
            continue
        for part in PLACEHOLDER.split(msgid):
            part = part.strip(" .,:;()")
            if part in msgstr or not re.search(r"[A-Za-z]{3}", part):
                continue  # a name or code the Italian keeps (sha256, PSA, Tornado)
            if re.search(rf"(?<![\w'-]){re.escape(part)}(?![\w'-])", text):
                found.append(part)
    return found


def test_the_italian_report_has_no_english_left_but_its_sources(result: SimulationResult) -> None:
    with in_language("it"):
        page = render_html(result, KNOWLEDGE)
    text = _read(page)
    assert _english_left(text) == []
    english_labels = [p.label for p in (*parameter_rows(KNOWLEDGE, result.population), *POPULATIONS)]
    english_labels += [t for s in STRATEGIES.values() for t in (s.title, s.label)] + [label for _, label in ROWS]
    assert [label for label in english_labels if label in text] == []
    assert page.startswith('<!doctype html>\n<html lang="it">')
    assert "<h2>Risultati per 100.000 gravidanze</h2>" in page
    assert "<th>Nessuno screening</th><th>Sierologia nel primo trimestre</th>" in page
    assert "popolazione <b>Puglia, 2016-2019, donne sotto i 25 anni</b> (sieroprevalenza 55,6%)" in page
    assert "Sieroprevalenza IgG anti-CMV alla prima visita: Puglia, 2016-2019, donne sotto i 25 anni" in text
    # the charts: axes, legends and the tornado's parameters in Italian, ticks written 20.000 and 0,2
    for label in ("disponibilità a pagare (EUR per QALY)", "probabilità di costo-efficacia", "Neonati",
                  "Sierologia nel primo trimestre", "beneficio monetario netto per 100.000 a 40.000 EUR/QALY (EUR)",
                  "<!-- 20.000 -->", "<!-- 0,2 -->", "<!-- IgG + IgM anti-CMV -->"):  # fmt: skip
        assert label in page, label
    assert "Shahar-Nissan" in page  # the sources stay as written
    assert "(non verificato)" in page


def test_the_english_report_is_unchanged_in_its_words(result: SimulationResult) -> None:
    page = render_html(result, KNOWLEDGE)
    assert page.startswith('<!doctype html>\n<html lang="en">')
    assert "<h2>Results per 100,000 pregnancies</h2>" in page
    assert "<th>No screening</th><th>First-trimester serology</th>" in page
    assert "population <b>Apulia, 2016-2019, women under 25</b> (seroprevalence 55.6%)" in page
    assert "<!-- 20,000 -->" in page and "<!-- willingness to pay (EUR per QALY) -->" in page
    assert "Risultati" not in page and "(unverified)" in page


def test_every_strategy_parameter_and_population_label_has_its_italian() -> None:
    """The strategies (simulation/strategies.py) in the catalogue, by hand (babel.cfg says why);
    the pack's labels in clinical_texts_it."""
    catalogue = _catalogue()
    texts = [t for s in STRATEGIES.values() for t in (s.title, s.label)]
    assert [t for t in texts if catalogue.get(t, t) == t] == []
    labels = [p.label for p in (*parameter_rows(KNOWLEDGE), *POPULATIONS, *(p.as_parameter() for p in POPULATIONS))]
    assert [label for label in labels if translate(label, "it") is None] == []


def test_the_text_table_in_italian(result: SimulationResult) -> None:
    with in_language("it"):
        text = render_text(result)
    assert text.splitlines()[0] == (
        "Simulazione dello screening del CMV: 2.000 gravidanze, seme 5, per 100.000 (riferimento: no-screening; "
        f"conoscenze {KNOWLEDGE.version}; popolazione apulia-under-25, sieroprevalenza 55,6%)"
    )
    assert _english_left(text) == []


def test_cli_lang_it_text_and_html(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["simulate", "--strategies", "first-trimester", "--n", "2000", "--seed", "5", "--lang", "it"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0].startswith("Simulazione dello screening del CMV: 2.000 gravidanze, seme 5, per 100.000")
    assert [line.split("  ")[0] for line in lines[2:5]] == [
        "Infezioni primarie materne", "Infezioni primarie diagnosticate", "Donne trattate con valaciclovir (prevenzione)"]  # fmt: skip
    page = tmp_path / "report.html"
    done = runner.invoke(app, ["simulate", "--strategies", "hygiene", "--n", "1000", "--format", "html",
                               "--lang", "it", "-o", str(page)])  # fmt: skip
    assert done.exit_code == 0, done.output
    report = page.read_text(encoding="utf-8")
    assert '<html lang="it">' in report and "<th>Consigli igienici</th>" in report
    assert _english_left(_read(report)) == []
    published = runner.invoke(app, ["simulate", "--published", "lim2025", "--strategies", "first-trimester",
                                    "--n", "1000", "--lang", "it"])  # fmt: skip
    assert published.exit_code == 0, published.output
    assert "Modello pubblicato lim2025: Infezioni fetali evitate con first-trimester, per 100.000: pubblicato 54" in published.output
    english = runner.invoke(app, ["simulate", "--strategies", "hygiene", "--n", "1000"])
    assert english.output.startswith("CMV screening simulation: 1,000 pregnancies")
    refused = runner.invoke(app, ["simulate", "--n", "10", "--lang", "fr"])
    assert refused.exit_code == 2 and "--lang" in refused.output

