"""Which reported genotype the decisions read, and whether it closes sequencing (fixr23a 1, 2).

Sources: Kotton 2018 SOT consensus (suspected ganciclovir resistance: genotype UL97 and UL54;
UL54 decides foscarnet and cidofovir, and with UL97 ganciclovir); the pack's genes_after rule.
Vignette: probe11 b09 (heart D+/R−, IV ganciclovir since 2026-10-29, 20,000 → 90,000 IU/mL,
worsening CMV syndrome). Two genotypes listed out of date order: 2026-11-20 UL97:M460V and
2026-11-19 no mutation (UL97, UL54). The latest by date (M460V: ganciclovir resistance) is the
one both the genotyping and the treatment decisions read. A genotype that did not sequence UL54
(or whose genes are not stated) leaves foscarnet and cidofovir not assessed: sequencing stays
open for the genes not sent, never "no new genotype is needed".
"""

from __future__ import annotations

import copy
from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import decision, events, run
from transplant.test_probe11_genotype_cidofovir import B09

M460V = {"date": "2026-11-20", "mutations": ["UL97:M460V"], "genes_tested": ["UL97", "UL54"]}
NONE_1119 = {"date": "2026-11-19", "mutations": [], "genes_tested": ["UL97", "UL54"]}


def _with(*genotypes: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(B09)
    raw["genotype"] = [copy.deepcopy(g) for g in genotypes]
    return raw


def _genotyping(knowledge: Knowledge, raw: dict[str, Any]) -> dict[str, Any]:
    return decision(run(knowledge, raw), "resistance-genotyping")


def test_the_latest_genotype_by_date_is_read_whatever_the_list_order(
    knowledge: Knowledge,
) -> None:
    for order in ((M460V, NONE_1119), (NONE_1119, M460V)):
        document = run(knowledge, _with(*order))
        genotyping = decision(document, "resistance-genotyping")
        treatment = decision(document, "antiviral-treatment")
        said = " ".join(genotyping["reasons"])
        assert "reported on 2026-11-20 (UL97, UL54): UL97:M460V" in said
        assert "ganciclovir: moderate resistance" in said
        assert "no mutation" not in said
        assert any("genotype UL97:M460V" in r for r in treatment["reasons"])
        assert genotyping["outcome"] == "not_indicated"  # both genes sequenced


def test_two_reports_of_the_same_day_are_read_together(knowledge: Knowledge) -> None:
    same_day = dict(NONE_1119, date="2026-11-20")
    for order in ((M460V, same_day), (same_day, M460V)):
        said = " ".join(_genotyping(knowledge, _with(*order))["reasons"])
        assert "UL97:M460V" in said and "ganciclovir: moderate resistance" in said


def test_ul97_only_names_ul54_and_keeps_sequencing_open(knowledge: Knowledge) -> None:
    raw = _with({"date": "2026-11-20", "mutations": [], "genes_tested": ["UL97"]})
    document = run(knowledge, raw)
    genotyping = decision(document, "resistance-genotyping")
    said = " ".join(genotyping["reasons"])
    assert "no new genotype is needed" not in said
    assert "UL54 not sequenced" in said
    assert "asks for UL97, UL54" in said
    assert genotyping["outcome"] == "recommended"
    assert genotyping["genes"] == ["UL54"]
    assert events(document, "genotype") == ["2026-11-20"]


def test_genes_not_stated_names_both_genes(knowledge: Knowledge) -> None:
    raw = _with({"date": "2026-11-20", "mutations": []})
    document = run(knowledge, raw)
    genotyping = decision(document, "resistance-genotyping")
    said = " ".join(genotyping["reasons"])
    assert "no new genotype is needed" not in said
    assert "The genes tested were not stated" in said and "send UL97, UL54" in said
    assert genotyping["outcome"] == "recommended"
    assert genotyping["genes"] == ["UL97", "UL54"]


def test_both_genes_sequenced_closes_sequencing(knowledge: Knowledge) -> None:
    document = run(knowledge, _with(NONE_1119))
    genotyping = decision(document, "resistance-genotyping")
    assert any("no new genotype is needed" in r for r in genotyping["reasons"])
    assert genotyping["outcome"] == "not_indicated"
    assert events(document, "genotype") == []
