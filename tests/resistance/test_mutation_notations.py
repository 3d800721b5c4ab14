"""probe15 A1, A2, A5, A6, A7 (ADR 0033-fix15a): mutation lists as laboratories write them.

Worked values: UL97 codon 460 is ATG (Met) in Merlin; coding base 1378 is its first base
(3 x 459 + 1), so c.1378A>G makes GTG, Val: M460V. M460V and M460I are ganciclovir resistance
mutations (HerpesDRG: M460V 5.9-8.3x, moderate). Arefinia 2018 reports "mix genotype of
M460V/I". HGVS (v2.0, 2015) writes a stop as ``Ter``/``*`` and ``X``/``Xaa`` is an unspecified
residue, while older reports used X for a stop: ``M460X`` is refused, never read as a stop.
"""

from __future__ import annotations

import pytest

from cmvcds.adapters.report.resistance_html import resistance_text
from cmvcds.engine.resistance import Level, interpret_mutations
from cmvcds.engine.resistance.genes import ReferenceGenes
from cmvcds.errors import SequenceInputError
from cmvcds.knowledge import Knowledge


def _mutations(report: object) -> list[tuple[str, float | None, str | None]]:
    doc = report.to_dict()  # type: ignore[attr-defined]
    return [(m["id"], m["frequency"], m.get("haplotype")) for m in doc["mutations"]]


def test_a_list_frequency_is_shown_as_listed_never_as_100_percent(knowledge: Knowledge) -> None:
    report = interpret_mutations("UL97:M460V", None, knowledge)
    # 1.0 in the JSON (design.md: present as the laboratory reported it), "listed" in the text
    assert _mutations(report) == [("UL97:M460V", 1.0, None)]
    text = resistance_text(report.to_dict())
    assert "100.0%" not in text and "listed (frequency not given)" in text
    # the laboratory called it present: no "frequency not given" flag on a plain list
    gcv = report.drug("ganciclovir")
    assert gcv.level is Level.MODERATE and not gcv.flags


def test_a_listed_combination_is_still_one_genome(knowledge: Knowledge) -> None:
    # UL97 F342Y + H411Y measured together (56x for maribavir): a list is one genome
    report = interpret_mutations("UL97:F342Y,UL97:H411Y", None, knowledge)
    maribavir = report.drug("maribavir")
    assert any(c.combination for c in maribavir.contributions)
    assert not any(f.code == "possible-combination" for f in maribavir.flags)


@pytest.mark.parametrize(
    ("written", "ids"),
    [
        ("UL97:M460V/I", [("UL97:M460V", None, "mixture"), ("UL97:M460I", None, "mixture")]),
        ("UL97:A594A/V", [("UL97:A594V", None, "mixture")]),
        (
            "UL97 p.Met460Val/Ile",
            [("UL97:M460V", None, "mixture"), ("UL97:M460I", None, "mixture")],
        ),
    ],
)
def test_mixtures_as_laboratories_write_them(
    knowledge: Knowledge, written: str, ids: list[tuple[str, None, str]]
) -> None:
    report = interpret_mutations(written, None, knowledge)
    assert _mutations(report) == ids
    gcv = report.drug("ganciclovir")
    assert gcv.level is Level.MODERATE  # the resistant residue is called, as a mixture
    flag = next(f for f in gcv.flags if f.code == "frequency-not-given")  # no invented share
    assert "mixture in a mutation list" in flag.text
    assert any("read as a mixture" in w and written in w for w in report.warnings)


@pytest.mark.parametrize(
    "written",
    ["ul97:m460v", "UL97:p.Met460Val", "UL97:p.(M460V)", "UL97:c.1378A>G", "ul97 c.1378a>g"],
)
def test_other_notations_of_m460v(knowledge: Knowledge, written: str) -> None:
    report = interpret_mutations(written, None, knowledge)
    assert _mutations(report) == [("UL97:M460V", 1.0, None)]


def test_the_delta_sign_is_a_deletion(knowledge: Knowledge) -> None:
    assert _mutations(interpret_mutations("UL97:Δ595", None, knowledge)) == [
        ("UL97:del595", 1.0, None)
    ]
    both = interpret_mutations("UL97:Δ591-594", None, knowledge)
    assert _mutations(both) == _mutations(interpret_mutations("UL97:del591-594", None, knowledge))


def test_a_coding_change_is_checked_against_the_reference(
    knowledge: Knowledge, genes: ReferenceGenes
) -> None:
    assert genes.gene("UL97").cds[1377] == "A"
    with pytest.raises(SequenceInputError, match="coding base 1378 of UL97 is A"):
        interpret_mutations("UL97:c.1378C>G", None, knowledge)
    # the third base of codon 460 (ATG -> ATA): Ile
    assert _mutations(interpret_mutations("UL97:c.1380G>A", None, knowledge)) == [
        ("UL97:M460I", 1.0, None)
    ]


@pytest.mark.parametrize("written", ["UL97:M460X", "UL97:p.Met460Xaa"])
def test_x_is_refused_not_read_as_a_stop(knowledge: Knowledge, written: str) -> None:
    with pytest.raises(SequenceInputError, match=r"X is not read: .* write \* \(or Ter\)"):
        interpret_mutations(written, None, knowledge)
    # a stop written as HGVS does is read
    assert _mutations(interpret_mutations("UL97:M460*", None, knowledge)) == [
        ("UL97:M460*", 1.0, None)
    ]


def test_two_residues_at_one_codon_are_a_conflict(knowledge: Knowledge) -> None:
    report = interpret_mutations("UL97:A594V,UL97:A594T", None, knowledge)
    (said,) = [w for w in report.warnings if "listed at one codon" in w]
    assert "UL97:A594V and UL97:A594T" in said and "UL97:A594V/T" in said
    assert [m[2] for m in _mutations(report)] == ["mixture", "mixture"]
    assert "100.0%" not in resistance_text(report.to_dict())
    assert any(f.code == "frequency-not-given" for f in report.drug("ganciclovir").flags)
