"""Vignettes of issue 14 item 5: a pregnancy is assessed whatever the context (AIFA Law 648/96).

Source: the AIFA protocol (seed 000): pregnant women "diagnosed with primary CMV infection during
the periconceptional period or in the first twenty-four weeks of pregnancy" are eligible for
valacyclovir prevention; women with a positive amniocentesis after a primary *or non-primary*
infection and mild/moderate Table 1 signs for in-utero treatment. Neither depends on who sees the
woman. Baseline: the pregnancy vignette (seroconversion between 2026-01-10 and 2026-02-20, LMP
2025-12-20, assessed 2026-03-02 at 10+2) seen in another context; one change per vignette.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pregnancy_cases import AMNIO, BASELINE, EDD, TODAY, expected, run, summary

from cmvcds.domain.case import parse_case
from cmvcds.errors import CaseFormatError
from cmvcds.knowledge import Knowledge

#: The baseline's pregnancy answer, unchanged by the context (see pregnancy_cases.expected()).
PREVENTION = expected()


def seen_as(context: str, **changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASELINE)
    raw["context"] = context
    raw.update(changes)
    return raw


def test_internist_mononucleosis_like_illness(knowledge: Knowledge) -> None:
    """The issue's case: a mononucleosis-like primary infection seen by an internist."""
    raw = seen_as("immunocompetent", presentation={"disease": "cmv_syndrome", "severity": "mild"})
    doc = run(knowledge, raw)
    assert summary(doc) == {
        **PREVENTION,
        "decisions": {
            "antiviral-treatment": "not_indicated",
            "valacyclovir-prevention": "recommended",
        },
    }
    assert "AIFA Law 648/96" in doc["findings"]["pregnancy_assessment"]
    prevention = next(d for d in doc["decisions"] if d["id"] == "valacyclovir-prevention")
    assert "aifa2020-648-valacyclovir" in prevention["citations"]


def test_internist_undated_pregnancy_is_referred(knowledge: Knowledge) -> None:
    """One change: the pregnancy is known but not dated → an explicit referral, not silence."""
    raw = seen_as(
        "immunocompetent",
        presentation={"disease": "cmv_syndrome", "severity": "mild"},
        pregnancy={"fetuses": 1},
    )
    doc = run(knowledge, raw)
    assert summary(doc) == {
        "ga": None, "infection": {},
        "decisions": {"antiviral-treatment": "not_indicated", "valacyclovir-prevention": "insufficient_data"},
        "regimens": [], "amniocentesis": [], "stop": [], "alerts": [], "missing": ["pregnancy.lmp"],
    }  # fmt: skip
    prevention = next(d for d in doc["decisions"] if d["id"] == "valacyclovir-prevention")
    assert prevention["rules"] == ["A1", "A2"] and prevention["citations"]


def test_fetal_result_without_pregnancy_block_is_referred(knowledge: Knowledge) -> None:
    """One change: no pregnancy block, but an amniotic-fluid result: the case carries a pregnancy."""
    raw = seen_as("immunocompetent", presentation={"disease": "cmv_syndrome", "severity": "mild"})
    del raw["pregnancy"]
    raw["ultrasound"] = []
    raw["assessed_on"] = "2026-05-20"
    raw["observations"] = [*raw["observations"], AMNIO]
    doc = run(knowledge, raw)
    assert summary(doc)["decisions"] == {
        "antiviral-treatment": "not_indicated",
        "valacyclovir-prevention": "insufficient_data",
    }
    assert summary(doc)["missing"] == ["pregnancy"]


def test_no_pregnancy_no_pregnancy_assessment(knowledge: Knowledge) -> None:
    """The converse: a woman who is not pregnant gets only her context's answer."""
    raw = seen_as("immunocompetent", presentation={"disease": "cmv_syndrome", "severity": "mild"})
    del raw["pregnancy"]
    raw["ultrasound"] = []
    doc = run(knowledge, raw)
    assert [d["id"] for d in doc["decisions"]] == ["antiviral-treatment"]
    assert "pregnancy_assessment" not in doc["findings"]


def test_immunocompromised_on_biologics(knowledge: Knowledge) -> None:
    """A woman with Crohn's disease on immunosuppressants (context immunocompromised), primary infection in early pregnancy."""
    raw = seen_as("immunocompromised", presentation={"disease": "asymptomatic_dnaemia"})
    doc = run(knowledge, raw)
    got = summary(doc)
    assert got["decisions"]["valacyclovir-prevention"] == "recommended"
    assert got["regimens"] == PREVENTION["regimens"]
    assert got["amniocentesis"] == ["2026-05-10"]


NON_PRIMARY = [
    {"date": "2026-02-20", "code": "cmv_igg", "result": "positive"},
    {"date": "2026-02-20", "code": "cmv_igm", "result": "negative"},
    {"date": "2026-02-20", "code": "creatinine", "value": 0.62, "unit": "mg/dL"},
    {"date": "2026-02-20", "code": "egfr", "value": 118, "unit": "mL/min/1.73m2"},
]


def test_hiv_on_art_non_primary(knowledge: Knowledge) -> None:
    """A woman with HIV on ART, CMV IgG positive and IgM negative: no prevention (A1), and the
    in-utero treatment stays open should an amniocentesis be positive."""
    raw = seen_as("hiv", hiv={"on_art": True, "art_start": "2019-05-01"}, observations=NON_PRIMARY)
    got = summary(run(knowledge, raw))
    assert got["decisions"]["valacyclovir-prevention"] == "not_indicated"
    assert got["infection"] == {"status": "non_primary"}
    assert got["regimens"] == [] and got["amniocentesis"] == []


def test_hiv_positive_amniocentesis_with_a_sign(knowledge: Knowledge) -> None:
    """One change: a positive amniocentesis and hepatomegaly → in-utero treatment (A6), non-primary."""
    raw = seen_as(
        "hiv",
        hiv={"on_art": True, "art_start": "2019-05-01"},
        observations=[*NON_PRIMARY, AMNIO],
        ultrasound=[{"date": "2026-05-19", "findings": ["hepatomegaly"]}],
        assessed_on="2026-05-20",
    )
    got = summary(run(knowledge, raw))
    assert got["decisions"]["valacyclovir-fetal-treatment"] == "recommended"
    assert got["regimens"] == [("fetal-treatment", 2000, 6, "2026-05-20", EDD)]


def test_kidney_recipient_pregnant(knowledge: Knowledge) -> None:
    """A kidney recipient (transplanted 2019) with a primary infection in early pregnancy."""
    raw = seen_as(
        "transplant",
        transplant={"organ": "kidney", "date": "2019-06-01", "donor_cmv_igg": "negative",
                    "recipient_cmv_igg": "negative"},
    )  # fmt: skip
    got = summary(run(knowledge, raw))
    assert got["decisions"]["valacyclovir-prevention"] == "recommended"
    assert got["regimens"][-1] == PREVENTION["regimens"][0]


@pytest.mark.parametrize(
    ("context", "extra", "problem"),
    [
        ("immunocompetent", {"patient": {"sex": "male", "age_years": 33}},
         "patient.sex: a case with a pregnancy must be of a female patient"),
        ("congenital", {"patient": {"sex": "female", "birth_date": "2026-02-01", "weight_kg": 3.4},
                        "congenital": {"diagnosis": {"date": "2026-02-10", "specimen": "urine"}}},
         "pregnancy: a congenital case is the infant's"),
    ],
)  # fmt: skip
def test_a_pregnancy_that_cannot_be_is_refused(
    knowledge: Knowledge, context: str, extra: dict[str, Any], problem: str
) -> None:
    raw = seen_as(context, **extra)
    with pytest.raises(CaseFormatError) as caught:
        parse_case(raw, knowledge, today=TODAY)
    assert any(p.startswith(problem) for p in caught.value.problems)  # type: ignore[attr-defined]


def test_dossier_for_a_pregnant_woman_seen_by_an_internist(tmp_path: Any) -> None:
    """The 648/96 dossier follows the pregnancy, not the context."""
    import json

    from typer.testing import CliRunner

    from cmvcds.adapters.cli.main import app

    raw = seen_as("immunocompetent", presentation={"disease": "cmv_syndrome", "severity": "mild"})
    path = tmp_path / "case.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    result = CliRunner().invoke(app, ["dossier", str(path)])
    assert result.exit_code == 0, result.output
    assert "valacyclovir-prevention" in result.output


# --- a running valacyclovir course outside the pregnancy context (engine/monitoring) -----------

VALACYCLOVIR = {"drug": "valacyclovir", "dose_mg": 2000, "every_h": 6, "route": "oral",
                "start": "2026-02-25"}  # fmt: skip


def test_internist_valacyclovir_course_needs_no_indication(knowledge: Knowledge) -> None:
    """One change: she already takes valacyclovir 2 g every 6 h (A3) since 2026-02-25, the course
    naming no indication. The pregnancy pathway owns it (prevention, from its start): nothing is
    asked for (formerly the spurious missing item ``therapy:valacyclovir.indication``)."""
    raw = seen_as(
        "immunocompetent",
        presentation={"disease": "cmv_syndrome", "severity": "mild"},
        therapy=[VALACYCLOVIR],
    )
    assert summary(run(knowledge, raw)) == {
        **PREVENTION,
        "decisions": {
            "antiviral-treatment": "not_indicated",
            "valacyclovir-prevention": "recommended",
        },
        "regimens": [("pregnancy-prevention", 2000, 6, "2026-02-25", "2026-06-20")],
    }


def test_without_the_pregnancy_the_indication_is_asked_for(knowledge: Knowledge) -> None:
    """Boundary: the same woman, not pregnant (no pregnancy block, no fetal result): the course
    is an ordinary valacyclovir course and its dose can be checked only with its indication."""
    raw = seen_as(
        "immunocompetent",
        presentation={"disease": "cmv_syndrome", "severity": "mild"},
        therapy=[VALACYCLOVIR],
        ultrasound=[],
    )
    del raw["pregnancy"]
    doc = run(knowledge, raw)
    assert "therapy:valacyclovir.indication" in [m["item"] for m in doc["missing"]]


def test_another_drug_in_pregnancy_still_needs_its_indication(knowledge: Knowledge) -> None:
    """Boundary: a pregnant woman's valganciclovir course (not a protocol drug) without an
    indication is not silently left unchecked: its indication is asked for."""
    course = {"drug": "valganciclovir", "dose_mg": 900, "every_h": 12, "route": "oral",
              "start": "2026-02-25"}  # fmt: skip
    raw = seen_as(
        "immunocompetent",
        presentation={"disease": "cmv_syndrome", "severity": "mild"},
        therapy=[course],
    )
    doc = run(knowledge, raw)
    assert "therapy:valganciclovir.indication" in [m["item"] for m in doc["missing"]]
