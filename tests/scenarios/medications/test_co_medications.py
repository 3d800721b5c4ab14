"""Vignettes of issue 14 item 3: dated co-medications in any context and the label rules they fire.

Each vignette is a case (the ``cmvcds dose --case`` and ``cmvcds assess`` paths) with one dated
``medications`` course changed. Sources (the drugs' rows cite them):
- VISTIDE (cidofovir) US label, Contraindications: "agents with nephrotoxic potential ... must be
  discontinued at least seven days prior to starting therapy" → stopped 7 days ago is allowed,
  6 days ago is not (look-back 7 days).
- PREVYMIS (letermovir) US label §2.4: 240 mg once daily with cyclosporine, 480 mg when it stops;
  §7: raises tacrolimus/sirolimus/cyclosporine levels, lowers voriconazole.
- LIVTENCITY (maribavir) US label §2.2/§7: carbamazepine → 800 mg twice daily; rifampin/rifabutin
  not recommended; antagonism of (val)ganciclovir (§5.1, §7.1).
- CYTOVENE/VALCYTE §7: added myelosuppression with mycophenolate, zidovudine, TMP-SMX.
- FOSCAVIR §7: nephrotoxic co-medications (cyclosporine, tacrolimus, aminoglycosides …).

Baseline: a 40-year-old man of 72 kg and 175 cm with HIV and CMV retinitis, creatinine 1.0 mg/dL
(Cockcroft-Gault 100 mL/min), urine protein 30 mg/dL, assessed 2026-03-10.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.conftest import TODAY

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.engine.dosing import dose_patient_from_case, recommend_dose
from cmvcds.knowledge import Knowledge

BASE: dict[str, Any] = {
    "id": "co-medications",
    "assessed_on": "2026-03-10",
    "context": "hiv",
    "patient": {"sex": "male", "age_years": 40, "weight_kg": 72, "height_cm": 175},
    "hiv": {"on_art": True, "retinitis": {"zone": 2, "active": True, "sight_threatening": False}},
    "observations": [
        {"date": "2026-03-09", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        {"date": "2026-03-09", "code": "urine_protein", "value": 30, "unit": "mg/dL"},
    ],
}


def taking(*courses: tuple[str, str, str | None], **changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw["medications"] = [
        {"drug": d, "start": s, **({"stop": e} if e else {})} for d, s, e in courses
    ]
    raw.update(changes)
    return raw


def dose(knowledge: Knowledge, raw: dict[str, Any], drug: str, indication: str) -> dict[str, Any]:
    case = parse_case(copy.deepcopy(raw), knowledge, today=TODAY)
    patient = dose_patient_from_case(case, case.assessed_on)
    return recommend_dose(patient, drug, indication, knowledge, region="us").to_dict()


def interactions(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (a["severity"], a["message"]) for a in document["alerts"] if a["code"] == "drug-interaction"
    ]


# --- cidofovir: nephrotoxic agents stopped at least 7 days before ----------------------------


@pytest.mark.parametrize(
    ("stop", "outcome"),
    [
        (None, "excluded"),  # still taking gentamicin
        ("2026-03-04", "excluded"),  # stopped 6 days ago
        ("2026-03-03", "recommended"),  # stopped 7 days ago: allowed
        ("2026-02-26", "recommended"),
    ],
)
def test_cidofovir_after_a_nephrotoxic_agent(
    knowledge: Knowledge, stop: str | None, outcome: str
) -> None:
    raw = taking(("gentamicin", "2026-02-25", stop))
    document = dose(knowledge, raw, "cidofovir", "induction")
    assert document["outcome"] == outcome
    if outcome == "excluded":
        [(severity, message)] = interactions(document)
        assert severity == "critical" and "at least 7 days" in message
        if stop:
            assert "gentamicin stopped 6 day(s) ago: fewer than 7 days" in message
    else:
        assert interactions(document) == []
        assert document["regimen"]["dose_mg"] == 360  # 5 mg/kg × 72 kg


def test_cidofovir_without_co_medication(knowledge: Knowledge) -> None:
    document = dose(knowledge, taking(), "cidofovir", "induction")
    assert document["outcome"] == "recommended"


# --- letermovir: cyclosporine sets the dose; voriconazole and CNI levels ---------------------


def hsct(*courses: tuple[str, str, str | None]) -> dict[str, Any]:
    return taking(
        *courses,
        context="transplant",
        hiv=None,
        transplant={"organ": "hsct", "allogeneic": True, "date": "2026-03-01",
                    "donor_cmv_igg": "negative", "recipient_cmv_igg": "positive"},
    )  # fmt: skip


def _phase(document: dict[str, Any]) -> tuple[Any, Any]:
    regimen = document["regimen"]
    return regimen["dose_mg"], regimen["every_h"]


def test_letermovir_with_dated_cyclosporine_is_240(knowledge: Knowledge) -> None:
    document = dose(
        knowledge, hsct(("cyclosporine", "2026-02-27", None)), "letermovir", "prophylaxis"
    )
    assert _phase(document) == (240, 24)


def test_letermovir_after_cyclosporine_stopped_is_480(knowledge: Knowledge) -> None:
    raw = hsct(("cyclosporine", "2026-02-27", "2026-03-08"), ("tacrolimus", "2026-03-09", None))
    document = dose(knowledge, raw, "letermovir", "prophylaxis")
    assert _phase(document) == (480, 24)
    assert [s for s, m in interactions(document)] == ["info"]  # tacrolimus levels


def test_legacy_undated_co_medications_still_count(knowledge: Knowledge) -> None:
    raw = hsct()
    raw["transplant"]["co_medications"] = ["cyclosporine"]
    assert _phase(dose(knowledge, raw, "letermovir", "prophylaxis")) == (240, 24)


def test_letermovir_lowers_voriconazole(knowledge: Knowledge) -> None:
    document = dose(
        knowledge, hsct(("voriconazole", "2026-03-05", None)), "letermovir", "prophylaxis"
    )
    assert _phase(document) == (480, 24)
    [(severity, message)] = interactions(document)
    assert severity == "warning" and "voriconazole" in message


# --- maribavir: CYP3A inducers and the ganciclovir antagonism --------------------------------


def test_maribavir_with_carbamazepine_is_800(knowledge: Knowledge) -> None:
    document = dose(
        knowledge, taking(("carbamazepine", "2025-06-01", None)), "maribavir", "refractory"
    )
    assert _phase(document) == (800, 12)


@pytest.mark.parametrize("inducer", ["rifampin", "rifabutin", "st-johns-wort"])
def test_maribavir_with_rifampin_not_recommended(knowledge: Knowledge, inducer: str) -> None:
    # LIVTENCITY §7 / SmPC: co-administration not recommended (levels fall; no dose adjustment is
    # labelled): no dose, the reason named and cited (review9b #4: it used to give 400 mg BID)
    document = dose(knowledge, taking((inducer, "2026-03-01", None)), "maribavir", "refractory")
    assert [s for s, _ in interactions(document)] == ["critical"]
    assert document["outcome"] == "excluded"
    assert document["regimen"] is None
    assert any("not recommended" in r for r in document["reasons"])
    assert "livtencity-us-label" in document["citations"]


# --- (val)ganciclovir and foscarnet -----------------------------------------------------------


@pytest.mark.parametrize("drug", ["ganciclovir", "valganciclovir"])
def test_myelosuppressive_co_medication(knowledge: Knowledge, drug: str) -> None:
    running = dose(knowledge, taking(("mycophenolate", "2025-01-01", None)), drug, "induction")
    assert [s for s, _ in interactions(running)] == ["info"]
    stopped = dose(
        knowledge, taking(("mycophenolate", "2025-01-01", "2026-03-01")), drug, "induction"
    )
    assert interactions(stopped) == []


def test_foscarnet_with_tacrolimus(knowledge: Knowledge) -> None:
    document = dose(knowledge, taking(("tacrolimus", "2025-01-01", None)), "foscarnet", "induction")
    assert [s for s, _ in interactions(document)] == ["warning"]


# --- immune status: corticosteroids and biologics ---------------------------------------------


def immune(context: str, *courses: tuple[str, str, str | None]) -> dict[str, Any]:
    raw = taking(*courses, context=context, hiv=None)
    raw["patient"] = {"sex": "female", "age_years": 30, "weight_kg": 60, "height_cm": 165}
    raw["presentation"] = {"disease": "cmv_syndrome", "severity": "mild"}
    return raw


def run(knowledge: Knowledge, raw: dict[str, Any]) -> dict[str, Any]:
    case = parse_case(copy.deepcopy(raw), knowledge, today=TODAY)
    return assess(case, knowledge).to_dict()


def test_immunocompetent_on_infliximab_is_flagged(knowledge: Knowledge) -> None:
    doc = run(knowledge, immune("immunocompetent", ("infliximab", "2025-10-01", None)))
    [alert] = [a for a in doc["alerts"] if a["code"] == "contradictory-input"]
    assert "infliximab (since 2025-10-01)" in alert["message"]
    assert doc["findings"]["medications"] == [
        {"drug": "infliximab", "start": "2025-10-01", "running": True,
         "classes": ["biologic", "immunosuppressant"], "rxnorm": "191831", "atc": "L04AB02"},
    ]  # fmt: skip


def test_immunocompetent_after_infliximab_stopped_is_not_flagged(knowledge: Knowledge) -> None:
    doc = run(knowledge, immune("immunocompetent", ("infliximab", "2025-10-01", "2026-01-10")))
    assert "contradictory-input" not in [a["code"] for a in doc["alerts"]]
    assert "medications" not in doc["findings"]


def test_immunocompromised_shows_its_immunosuppression(knowledge: Knowledge) -> None:
    doc = run(knowledge, immune("immunocompromised", ("prednisone", "2026-01-15", None)))
    assert doc["findings"]["immunosuppression"] == ["prednisone (since 2026-01-15)"]


def test_every_interaction_names_a_known_drug(knowledge: Knowledge) -> None:
    """Interaction rows name drugs a case can carry: an antiviral, or a catalogue drug or alias
    (class words the labels print, such as 'aminoglycoside' or 'nsaid', are listed here)."""
    from cmvcds.knowledge.schemas.core import Vocabularies
    from cmvcds.knowledge.schemas.drugs import DrugLabel
    from cmvcds.knowledge.schemas.medications import MedicationCatalogue

    catalogue = knowledge.table("medications", MedicationCatalogue)
    antivirals = set(knowledge.table("vocabularies", Vocabularies).drugs)
    names = {m.drug for m in catalogue.medications} | {
        a for m in catalogue.medications for a in m.aliases
    }
    class_words = {"aminoglycoside", "nsaid", "imipenem"}
    unknown = {
        f"{label.drug}:{rule.id}:{name}"
        for label in (t for t in knowledge.tables.values() if isinstance(t, DrugLabel))
        for rule in label.interactions
        for name in (*rule.with_any, *rule.only_with)
        if name not in names | antivirals | class_words
    }
    assert unknown == set()


@pytest.mark.parametrize(
    ("intolerances", "outcome"),
    [
        ([], "recommended"),
        (["probenecid"], "excluded"),
        (["trimethoprim-sulfamethoxazole"], "excluded"),
    ],
)
def test_cidofovir_needs_probenecid(
    knowledge: Knowledge, intolerances: list[str], outcome: str
) -> None:
    """VISTIDE Contraindications: severe hypersensitivity to probenecid or other sulfa drugs
    (probenecid is given with every dose)."""
    raw = taking()
    raw["patient"]["intolerances"] = intolerances
    document = dose(knowledge, raw, "cidofovir", "induction")
    assert document["outcome"] == outcome
    assert ("probenecid" in " ".join(m for _, m in interactions(document))) == (
        outcome == "excluded"
    )


def _hsct_example(knowledge: Knowledge, dated: bool, stop: str | None = None) -> dict[str, Any]:
    """examples/transplant-hsct-letermovir.yaml (allogeneic HSCT day 3, R+, on cyclosporine), with
    cyclosporine listed undated (``transplant.co_medications``) or as a dated course."""
    from pathlib import Path

    import yaml

    from cmvcds.domain.settings import parse_settings

    root = Path(__file__).resolve().parents[3] / "examples"
    raw = yaml.safe_load((root / "transplant-hsct-letermovir.yaml").read_text(encoding="utf-8"))
    if dated:
        raw["transplant"]["co_medications"] = []
        raw["medications"] = [
            {"drug": "cyclosporine", "start": "2026-04-28", **({"stop": stop} if stop else {})}
        ]
    site = parse_settings(
        yaml.safe_load((root / "settings.yaml").read_text(encoding="utf-8")), knowledge
    )
    case = parse_case(raw, knowledge, today=TODAY)
    return assess(case, knowledge, settings=site).to_dict()


def test_hsct_pathway_reads_dated_cyclosporine_as_the_legacy_list(knowledge: Knowledge) -> None:
    legacy, dated = _hsct_example(knowledge, False), _hsct_example(knowledge, True)

    def answer(doc: dict[str, Any]) -> tuple[Any, ...]:
        letermovir = [
            (g["dose_mg"], g["every_h"]) for g in doc["regimens"] if g["drug"] == "letermovir"
        ]
        statins = any("simvastatin and pitavastatin" in a["message"] for a in doc["alerts"])
        return letermovir, statins

    assert answer(legacy) == answer(dated) == ([(240, 24)], True)
    stopped = _hsct_example(knowledge, True, stop="2026-05-02")  # stopped 2 days before day 3
    assert answer(stopped) == ([(480, 24)], False)
