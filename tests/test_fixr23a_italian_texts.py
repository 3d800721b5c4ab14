"""The genotype reading and the SOT unquantified-DNA texts in Italian (fixr23a item 8): the
sentences the engine writes, translated whole with their numbers, dates and gene names carried."""

from __future__ import annotations

import pytest

from cmvcds.adapters.web.texts import translate

CASES = [
    (
        "A genotype was reported on 2026-11-20 (UL97, UL54): no mutation. Its reading: "
        "ganciclovir: susceptible; foscarnet: susceptible. Choose the drug on this reading; "
        "no new genotype is needed for it.",
        "Un genotipo è stato refertato il 2026-11-20 (UL97, UL54): nessuna mutazione.",
    ),
    (
        "A genotype was reported on 2026-11-20 (UL97, UL54): UL97:X999Q; it cannot be "
        "interpreted ('UL97:X999Q': position outside UL97 (1-707)): ask the laboratory.",
        "non può essere interpretato ('UL97:X999Q': position outside UL97 (1-707)): chiedere al "
        "laboratorio.",
    ),
    (
        "A genotype was reported on 2026-11-20 (UL97): no mutation. Its reading: ganciclovir: "
        "not assessed; maribavir: susceptible. UL54 not sequenced (the genotyping rule asks for "
        "UL97, UL54 after this exposure; a drug they decide is not assessed): send UL54 before "
        "choosing the drug on this reading.",
        "UL54 non sequenziato (la regola di genotipizzazione chiede UL97, UL54",
    ),
    (
        "CMV DNA detected on 2026-11-19 without a quantity: repeat a quantitative test",
        "DNA di CMV rilevato il 2026-11-19 senza quantificazione: ripetere un test quantitativo",
    ),
]


@pytest.mark.parametrize(("english", "expected"), CASES)
def test_translated_whole(english: str, expected: str) -> None:
    italian = translate(english, "it")
    assert italian is not None and expected in italian
    for word in ("no mutation", "ask the laboratory", "not sequenced", "without a quantity"):
        assert word not in italian
