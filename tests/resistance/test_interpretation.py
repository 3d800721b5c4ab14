"""Vignettes on mutation lists: one change at a time from a wild-type baseline, the whole call.

Expected values were worked out by hand from ``mutations.csv`` (HerpesDRG-DB 2026Q2): the
strongest evidence class present, the median of its fold changes, bands < 2, 2–< 5, 5–< 15, ≥ 15.
E.g. UL97 C592G, ganciclovir, recombinant rows 4.05, 3, 3, 2.7, 2.5, 2.6, 3, 3.2, 3.2, 3.9 →
median 3.1 → low, range 2.5–4.05.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmvcds.engine.resistance import Level, interpret_mutations
from cmvcds.errors import SequenceInputError
from cmvcds.knowledge import Knowledge

ALL_GENES = ["UL97", "UL54", "UL56", "UL89", "UL51", "UL27"]


def calls(
    knowledge: Knowledge, mutations: str, genes: list[str] | None = ALL_GENES
) -> dict[str, tuple[str, list[float] | None, list[str]]]:
    doc = interpret_mutations(mutations, genes, knowledge).to_dict()
    return {
        drug: (c["level"], c["fold_change"], c["mutations"]) for drug, c in doc["drugs"].items()
    }


BASELINE = {
    "ganciclovir": ("susceptible", None, []),
    "valganciclovir": ("susceptible", None, []),
    "foscarnet": ("susceptible", None, []),
    "cidofovir": ("susceptible", None, []),
    "brincidofovir": ("susceptible", None, []),
    "maribavir": ("susceptible", None, []),
    "letermovir": ("susceptible", None, []),
}


def expect(
    **changes: tuple[str, list[float] | None, list[str]],
) -> dict[str, tuple[str, list[float] | None, list[str]]]:
    result = dict(BASELINE)
    result.update(changes)
    if "ganciclovir" in changes:
        result["valganciclovir"] = changes["ganciclovir"]
    return result


def test_wild_type_with_every_gene_tested_is_susceptible_to_every_drug(
    knowledge: Knowledge,
) -> None:
    assert calls(knowledge, "") == BASELINE


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        # UL97: classic ganciclovir resistance; maribavir as the table says (no data -> unknown)
        ("UL97:M460V", expect(ganciclovir=("moderate", [5.9, 8.3], ["UL97:M460V"]))),
        (
            "UL97:M460I",
            expect(
                ganciclovir=("moderate", [7.8, 7.8], ["UL97:M460I"]),
                maribavir=("unknown", None, []),
            ),
        ),
        (
            "UL97:H520Q",
            expect(
                ganciclovir=("moderate", [7.8, 7.8], ["UL97:H520Q"]),
                maribavir=("unknown", None, []),
            ),
        ),
        ("UL97:C592G", expect(ganciclovir=("low", [2.5, 4.05], ["UL97:C592G"]))),
        (
            "UL97:A594V",
            expect(
                ganciclovir=("moderate", [6.4, 10.4], ["UL97:A594V"]),
                # measured 2.2-fold once; curated to susceptible (curation.yaml)
            ),
        ),
        ("UL97:L595S", expect(ganciclovir=("moderate", [4.9, 8.6], ["UL97:L595S"]))),
        # C603W: polymorphism rows for cidofovir and foscarnet only (hdrg1816); no maribavir row
        (
            "UL97:C603W",
            expect(
                ganciclovir=("moderate", [7.9, 8.3], ["UL97:C603W"]),
                maribavir=("unknown", None, []),
            ),
        ),
        # the classic codon 590-607 deletion (written del590-593 upstream, same protein)
        (
            "UL97:del591-594",
            expect(
                ganciclovir=("low", [4.8, 4.8], ["UL97:del591-594"]),
                maribavir=("unknown", None, []),
            ),
        ),
        # maribavir: T409M and H411Y, ganciclovir-susceptible
        ("UL97:T409M", expect(maribavir=("high", [81, 90], ["UL97:T409M"]))),
        ("UL97:H411Y", expect(maribavir=("high", [12, 20], ["UL97:H411Y"]))),
        # letermovir
        ("UL56:C325Y", expect(letermovir=("high", [3000, 8800], ["UL56:C325Y"]))),
        # UL54: ganciclovir-cidofovir cross-resistance, foscarnet spared; and the reverse
        (
            "UL54:L501I",
            expect(
                ganciclovir=("moderate", [6, 6], ["UL54:L501I"]),
                cidofovir=("moderate", [9.1, 9.1], ["UL54:L501I"]),
                brincidofovir=("unknown", None, []),
            ),
        ),
        (
            "UL54:A987G",
            expect(
                ganciclovir=("moderate", [5.1, 6.2], ["UL54:A987G"]),
                cidofovir=("moderate", [4.5, 11.3], ["UL54:A987G"]),
                brincidofovir=("unknown", None, []),
            ),
        ),
        (
            "UL54:V715M",
            expect(
                foscarnet=("moderate", [3.7, 65], ["UL54:V715M"]),
                brincidofovir=("unknown", None, []),
            ),
        ),
        (
            "UL54:A809V",
            expect(
                ganciclovir=("low", [2.1, 2.4], ["UL54:A809V"]),
                foscarnet=("low", [3.3, 4.3], ["UL54:A809V"]),
                brincidofovir=("unknown", None, []),
            ),
        ),
        (
            "UL54:del981-982",
            expect(
                ganciclovir=("moderate", [4.6, 8.3], ["UL54:del981-982"]),
                foscarnet=("low", [2.5, 4], ["UL54:del981-982"]),
                cidofovir=("low", [2.8, 4], ["UL54:del981-982"]),
                brincidofovir=("unknown", None, []),
            ),
        ),
        # a known polymorphism is susceptible for the drug of its row only (issue 18): D329H has a
        # ganciclovir polymorphism row (hdrg451) and no maribavir row
        ("UL97:D329H", expect(maribavir=("unknown", None, []))),
        # an uncharacterised change: unknown for the drugs of its gene, never susceptible
        ("UL97:A606T", expect(ganciclovir=("unknown", None, []), maribavir=("unknown", None, []))),
    ],
)
def test_one_mutation(knowledge: Knowledge, mutation: str, expected: dict[str, object]) -> None:
    assert calls(knowledge, mutation) == expected


def test_recombinant_evidence_outranks_a_clinical_isolate(knowledge: Knowledge) -> None:
    # UL97 M460V: a clinical isolate measured 15.5 (high); recombinant viruses 5.9-8.3 (moderate).
    # HerpesDRG takes the maximum over every row and calls it high.
    doc = interpret_mutations("UL97:M460V", ALL_GENES, knowledge).to_dict()
    evidence = doc["drugs"]["ganciclovir"]["evidence"][0]
    assert (evidence["level"], evidence["evidence"], evidence["studies"]) == (
        "moderate",
        "recombinant",
        7,
    )


def test_combination_phenotype_applies_only_to_the_whole_combination(knowledge: Knowledge) -> None:
    # UL27 C415* and A406V were measured only together (maribavir 3.5-fold)
    alone = interpret_mutations("UL27:C415*", ALL_GENES, knowledge)
    assert alone.drug("maribavir").level is Level.UNKNOWN
    assert [(m.id, m.status.value) for m in alone.mutations] == [("UL27:C415*", "unknown")]
    assert alone.unknown == ("UL27:C415*",)
    both = interpret_mutations("UL27:C415*, UL27:A406V", ALL_GENES, knowledge)
    maribavir = both.drug("maribavir")
    assert (maribavir.level, maribavir.fold_change, maribavir.mutations) == (
        Level.LOW,
        (3.5, 3.5),
        ("UL27:A406V+UL27:C415*",),
    )
    assert [m.status.value for m in both.mutations] == ["resistance", "resistance"]
    assert both.unknown == ()


def test_combination_raises_the_level_without_being_attributed_to_one_mutation(
    knowledge: Knowledge,
) -> None:
    # UL54 K513N alone: cidofovir 12.5 (moderate); with V812L the pair measured 34 (high)
    assert calls(knowledge, "UL54:K513N")["cidofovir"] == ("moderate", [12.5, 12.5], ["UL54:K513N"])
    pair = calls(knowledge, "UL54:K513N, UL54:V812L")["cidofovir"]
    assert pair == ("high", [34, 34], ["UL54:K513N+UL54:V812L", "UL54:K513N", "UL54:V812L"])


def test_untested_gene_makes_its_drugs_not_assessed_never_susceptible(knowledge: Knowledge) -> None:
    result = calls(knowledge, "UL97:M460V", None)  # genes tested default to UL97 only
    assert result == expect(
        ganciclovir=("moderate", [5.9, 8.3], ["UL97:M460V"]),  # resistance found is reported
        foscarnet=("not_assessed", None, []),
        cidofovir=("not_assessed", None, []),
        brincidofovir=("not_assessed", None, []),
        letermovir=("not_assessed", None, []),
    )
    wild_ul97 = calls(knowledge, "", ["UL97"])
    assert wild_ul97["ganciclovir"] == ("not_assessed", None, [])  # UL54 not sequenced
    assert wild_ul97["maribavir"] == ("susceptible", None, [])


def test_the_design_example_shape(knowledge: Knowledge) -> None:
    doc = interpret_mutations("UL97:M460V,UL54:A809V", None, knowledge).to_dict()
    assert list(doc)[:9] == [
        "format",
        "knowledge",
        "threshold",
        "genes_tested",
        "mutations",
        "minority",
        "drugs",
        "unknown",
        "coverage",
    ]
    assert doc["format"] == "cmvcds-resistance/1"
    assert doc["knowledge"] == knowledge.stamp()
    assert doc["threshold"] == 0.1
    assert doc["genes_tested"] == ["UL97", "UL54"]
    assert doc["mutations"] == [
        {"id": "UL97:M460V", "frequency": 1.0, "status": "resistance"},
        {"id": "UL54:A809V", "frequency": 1.0, "status": "resistance"},
    ]
    ganciclovir = doc["drugs"]["ganciclovir"]
    assert {k: ganciclovir[k] for k in ("level", "fold_change", "mutations")} == {
        "level": "moderate",
        "fold_change": [5.9, 8.3],
        "mutations": ["UL97:M460V", "UL54:A809V"],
    }
    assert "kotton2018-sot-cmv-consensus" in ganciclovir["citations"]
    assert "10.1128/aac.01259-10" in ganciclovir["references"]
    assert doc["drugs"]["valganciclovir"]["phenotype_from"] == "ganciclovir"
    assert doc["drugs"]["cidofovir"]["level"] == "susceptible"
    assert doc["unverified"]  # the band edges are not yet verified against the consensus


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("UL97:A460V", "UL97 residue 460 is M in the Merlin reference"),
        ("UL12:A1V", "not a resistance gene"),
        ("M460V", "is not a mutation"),
        ("UL97:M460", "unrecognised change"),
    ],
)
def test_bad_mutations_are_input_errors_naming_the_value(
    knowledge: Knowledge, text: str, message: str
) -> None:
    with pytest.raises(SequenceInputError, match=message) as caught:
        interpret_mutations(text, None, knowledge)
    assert caught.value.exit_code == 2


def test_every_unreadable_change_of_a_list_is_named_and_no_partial_report_is_made(
    knowledge: Knowledge,
) -> None:
    """probe8 R7: with one bad change the user saw that one only, and fixed the list one error
    at a time. Every bad change is named at once; no report is made from the rest, because a
    change left out (a typo of UL97:C592G, say) could turn a resistant call into "susceptible"."""
    text = "UL97:M460V, UL54:A809V, UL97:Q9999Z, UL97:A460V"
    with pytest.raises(SequenceInputError) as caught:
        interpret_mutations(text, None, knowledge)
    message = str(caught.value)
    assert message.startswith("2 of 4 listed changes could not be read")
    assert "'UL97:Q9999Z': position outside UL97 (1-707)" in message
    assert "'UL97:A460V': UL97 residue 460 is M in the Merlin reference" in message
    assert "a change left out could hide resistance" in message
    assert caught.value.exit_code == 2


def test_mutation_in_a_gene_declared_untested_is_refused(knowledge: Knowledge) -> None:
    with pytest.raises(SequenceInputError, match="not listed as tested"):
        interpret_mutations("UL97:M460V", ["UL54"], knowledge)


KNOWN = [
    "UL97:M460V",
    "UL97:C592G",
    "UL97:H411Y",
    "UL54:A809V",
    "UL54:L501I",
    "UL54:V715M",
    "UL56:C325Y",
    "UL97:D329H",
    "UL97:A606T",
    "UL27:C415*",
    "UL27:A406V",
    "UL54:K513N",
    "UL54:V812L",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(KNOWN), unique=True), st.sampled_from(KNOWN))
def test_adding_a_mutation_never_lowers_a_measured_level(
    knowledge: Knowledge, before: list[str], extra: str
) -> None:
    first = interpret_mutations(before, ALL_GENES, knowledge)
    second = interpret_mutations([*before, extra], ALL_GENES, knowledge)
    for a, b in zip(first.drugs, second.drugs, strict=True):
        assert b.level.rank >= a.level.rank or b.level is Level.UNKNOWN
        if a.level.is_resistance:
            assert b.level.rank >= a.level.rank
        assert b.level is not Level.SUSCEPTIBLE or a.level is Level.SUSCEPTIBLE


def test_a_mutation_list_never_claims_whole_gene_coverage(knowledge: Knowledge) -> None:
    """A list names the changes found, not the codons read (issue 18 item 5): coverage shows
    only the listed codons, basis ``listed``; the calls still rest on the genes declared tested."""
    report = interpret_mutations("UL97:M460V, UL97:del591-594", ["UL97", "UL54"], knowledge)
    doc = report.to_dict()
    assert doc["coverage"] == {
        "UL97": {"codons": [[460, 460], [591, 594]], "basis": "listed"},
        "UL54": {"codons": [], "basis": "listed"},
    }
    # no known resistance codon is "not covered" because of it: UL54 declared tested, no change
    assert doc["drugs"]["foscarnet"]["level"] == "susceptible"
    assert "not_covered" not in doc["drugs"]["ganciclovir"]
    from cmvcds.adapters.report.resistance_html import resistance_text

    text = resistance_text(doc)
    assert "UL54: extent sequenced not stated" in text
    assert "codons 1–" not in text


def test_contributions_kept_per_pack_are_the_ones_a_report_builds(knowledge: Knowledge) -> None:
    """Each mutation x drug contribution is built once per pack (``_Index.contributions``, issue
    20): a report from the kept ones equals a report built afresh, singles and combinations."""
    from cmvcds.engine.resistance import report

    mutations = "UL97:M460V, UL54:K513N, UL54:V812L, UL27:C415*, UL27:A406V, UL97:C592G"
    kept = interpret_mutations(mutations, ALL_GENES, knowledge)
    assert interpret_mutations(mutations, ALL_GENES, knowledge) == kept
    index = report._index(knowledge, report.DEFAULT_VIRUS)
    assert index.contributions  # filled by the reports above
    index.contributions.clear()
    assert interpret_mutations(mutations, ALL_GENES, knowledge) == kept
