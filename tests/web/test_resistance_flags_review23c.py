"""review23c 4 and 7: every flag a resistance call can carry has its own label on the web page
(the below-minimum-depth flag fell into the "Combined effect uncharacterised" branch), in
English and in Italian; a drug not assessed says why on its row; the report's warnings are shown
in the page's language. The flag codes are read from the engine (``report.py``'s ``Flag(...)``
calls) and the pack (``combined_effects.yaml``), so a new flag without a label fails here."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from cmvcds.adapters.report.resistance_html import FLAG_WORDING
from cmvcds.adapters.web.i18n import reset_language, set_language
from cmvcds.adapters.web.render import render
from cmvcds.knowledge import load_knowledge
from cmvcds.knowledge.schemas.resistance import CombinedEffects

REPORT = Path(__file__).parents[2] / "src/cmvcds/engine/resistance/report.py"


def _codes() -> list[str]:
    engine = set(re.findall(r'Flag\(\s*"([a-z-]+)"', REPORT.read_text()))
    pack = {
        r.flag for r in load_knowledge().table("resistance_combined_effects", CombinedEffects).rules
    }
    return sorted(engine | pack)


def test_the_flag_codes_are_found() -> None:
    assert {"below-minimum-depth", "depth-not-given", "frequency-not-given"} <= set(_codes())
    assert set(_codes()) <= set(FLAG_WORDING)  # the text and HTML reports label each too


def _page(language: str, drug: dict[str, object], warnings: list[str] = ()) -> str:  # type: ignore[assignment]
    result = {
        "virus": "cmv",
        "knowledge": {"version": "x"},
        "genes_tested": ["UL97"],
        "drugs": {"ganciclovir": {"level": "not_assessed", "citations": [], **drug}},
        "warnings": list(warnings),
    }
    token = set_language(language)
    try:
        return render("resistance.html", v={}, result=result, errors=[], title="t")
    finally:
        reset_language(token)


def _label(page: str, code: str) -> str:
    found = re.search(rf'data-flag="{code}">(.*?) UL97:M460V</strong>', page)
    assert found, code
    return html.unescape(found.group(1))


@pytest.mark.parametrize("code", _codes())
def test_every_flag_has_its_own_label(code: str) -> None:
    flag = {"code": code, "text": "t", "mutations": ["UL97:M460V"], "citations": []}
    english = _label(_page("en", {"flags": [flag]}), code)
    assert english == FLAG_WORDING[code] + ":"
    italian = _label(_page("it", {"flags": [flag]}), code)
    assert italian != english and italian != code + ":"


def test_a_drug_not_assessed_says_why_in_the_page_language() -> None:
    drug = {"coverage_unknown": ["UL97"], "genes_not_tested": ["UL54"], "not_covered": ["UL97:460"]}
    page = html.unescape(_page("en", drug))
    assert (
        "not assessable: coverage unknown (the VCF lists variants, not the codons read): UL97"
        in page
    )
    assert "not sequenced: UL54" in page and "known resistance codons not covered: UL97:460" in page
    page = html.unescape(_page("it", drug))
    assert "non valutabile: copertura sconosciuta" in page and "non sequenziato: UL54" in page
    assert "codoni di resistenza noti non coperti: UL97:460" in page


def test_the_ngs_warnings_are_shown_in_italian() -> None:
    warnings = [
        "UL97:M460V: depth 99 below the minimum 100: not called",
        "minimum read depth 100 reads (cmvcds reference default: no guideline sets one; a site "
        "sets its own with the minimum depth setting: --min-depth, API min_depth)",
    ]
    page = html.unescape(_page("it", {}, warnings))
    assert "UL97:M460V: profondità di lettura 99 inferiore al minimo 100" in page
    assert "profondità minima di lettura 100 letture" in page
    assert "--min-depth, API min_depth" in page
