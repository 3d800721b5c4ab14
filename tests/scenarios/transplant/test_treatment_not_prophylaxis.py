"""A CMV infection being treated is never re-read as prophylaxis (probe9 #3, #4, #11).

Sources: Kotton 2018 SOT consensus (treatment of CMV DNAemia/disease is valganciclovir 900 mg
twice daily or IV ganciclovir 5 mg/kg twice daily, at treatment dose; prophylaxis is the
prevention of infection in a patient without it, valganciclovir 900 mg once daily for 200 days
after kidney D+/R−: a treated infection is not prevented beside its treatment), Chemaly 2019
(refractory: > 1 log10 rise after ≥ 2 weeks of appropriately dosed therapy), LIVTENCITY US PI
(§2.1 400 mg twice daily; §2.2 800 mg twice daily with carbamazepine, 1,200 mg twice daily with
phenytoin or phenobarbital; §5.1/§7.1 not with (val)ganciclovir), PREVYMIS US PI (letermovir is
prophylaxis only; ECIL 7: letermovir stops when CMV infection is treated).

Baseline (probe9 vignette ``a_mbv_refractory``): kidney D+/R−, transplanted 2026-01-10, assessed
on day 160 (2026-06-19), inside the 200-day prophylaxis period; 70 kg, 175 cm, 60 years,
creatinine 1.0 mg/dL (Cockcroft–Gault 77.8 mL/min); valganciclovir 900 mg q12h induction since
2026-06-01; plasma 5,000 IU/mL (06-01) → 80,000 IU/mL (06-18): log10(16) = 1.20 > 1 after 17 days
→ refractory.
"""

from __future__ import annotations

from typing import Any

import pytest

from cmvcds.knowledge import Knowledge
from transplant.helpers import alerts, decision, outcomes, regimens, run, with_

KIDNEY_DPOS_RNEG: dict[str, Any] = {
    "id": "probe9-a-mbv-refractory",
    "assessed_on": "2026-06-19",
    "context": "transplant",
    "patient": {
        "sex": "male",
        "age_years": 60,
        "weight_kg": 70,
        "height_cm": 175,
        "can_take_oral": True,
    },
    "transplant": {
        "organ": "kidney",
        "date": "2026-01-10",
        "donor_cmv_igg": "positive",
        "recipient_cmv_igg": "negative",
        "co_medications": ["tacrolimus"],
    },
    "presentation": {"disease": "asymptomatic_dnaemia", "course": "stable"},
    "observations": [
        {"date": "2026-06-18", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
        {
            "date": "2026-06-01",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 5000,
            "unit": "IU/mL",
        },
        {
            "date": "2026-06-18",
            "code": "cmv_dna",
            "specimen": "plasma",
            "value": 80000,
            "unit": "IU/mL",
        },
        {"date": "2026-06-18", "code": "anc", "value": 2500, "unit": "cells/uL"},
    ],
    "therapy": [
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 12,
            "route": "oral",
            "start": "2026-06-01",
            "indication": "induction",
        }
    ],
}

#: Maribavir and (val)ganciclovir must not be given together (LIVTENCITY §5.1, §7.1).
GANCICLOVIRS = ("valganciclovir", "ganciclovir")


def _options(document: dict[str, Any]) -> list[str]:
    return decision(document, "antiviral-treatment")["reasons"]


def test_refractory_treatment_course_is_not_relabelled_prophylaxis(knowledge: Knowledge) -> None:
    document = run(knowledge, KIDNEY_DPOS_RNEG)
    assert outcomes(document)["antiviral-prophylaxis"] == "not_indicated"
    assert outcomes(document)["preemptive-therapy"] == "not_indicated"
    assert outcomes(document)["antiviral-treatment"] == "specialist_review"
    assert "refractory-cmv" in alerts(document)
    # no course of any drug is recommended as prophylaxis beside the refractory treatment options
    assert [r for r in document["regimens"] if r["indication"] == "prophylaxis"] == []
    assert regimens(document, "valganciclovir") == []
    reasons = decision(document, "antiviral-prophylaxis")["reasons"]
    assert any("valganciclovir induction therapy running since 2026-06-01" in r for r in reasons)
    assert not any("through day 200" in r for r in reasons)


@pytest.mark.parametrize(
    ("co_medication", "dose"),
    [
        (None, "400 mg, twice daily"),
        ("carbamazepine", "800 mg, twice daily"),
        ("phenytoin", "1200 mg, twice daily"),
        ("phenobarbital", "1200 mg, twice daily"),
    ],
)
def test_offered_maribavir_carries_its_dose_for_the_co_medications(
    knowledge: Knowledge, co_medication: str | None, dose: str
) -> None:
    tx = dict(KIDNEY_DPOS_RNEG["transplant"])
    if co_medication:
        tx["co_medications"] = ["tacrolimus", co_medication]
    document = run(knowledge, with_(KIDNEY_DPOS_RNEG, transplant=tx))
    reasons = _options(document)
    assert any(r.startswith("Maribavir for 8 weeks") for r in reasons)
    assert f"maribavir if chosen: {dose}, oral (no renal adjustment; dosing engine)" in reasons
    messages = [a["message"] for a in document["alerts"]]
    if co_medication:
        assert any(
            a["code"] == "drug-interaction"
            and "maribavir dose is" in a["message"]
            and dose.split(" mg")[0].replace("1200", "1,200") in a["message"]
            for a in document["alerts"]
        ), messages
    # valganciclovir is running: switching to maribavir means stopping it (LIVTENCITY §5.1,
    # §7.1). Nobody gives maribavir yet, so it is said as the option's, a warning: the critical
    # alerts stay those of what the patient is given
    antagonism = [a for a in document["alerts"] if "Maribavir antagonises" in a["message"]]
    assert [(a["severity"], a["message"][:48]) for a in antagonism] == [
        ("warning", "maribavir if chosen: Maribavir antagonises ganci")
    ], messages


def test_an_option_already_given_keeps_its_alerts_as_they_are(knowledge: Knowledge) -> None:
    """The same refractory case with maribavir recorded as running beside valganciclovir: its
    antagonism alert is about what is given, so it stays critical and is not said "if chosen"."""
    therapy = [
        *KIDNEY_DPOS_RNEG["therapy"],
        {"drug": "maribavir", "dose_mg": 400, "every_h": 12, "route": "oral",
         "start": "2026-06-15", "indication": "refractory"},
    ]  # fmt: skip
    document = run(knowledge, with_(KIDNEY_DPOS_RNEG, therapy=therapy))
    antagonism = [a for a in document["alerts"] if "Maribavir antagonises" in a["message"]]
    assert antagonism and all(a["severity"] == "critical" for a in antagonism)
    assert not any("if chosen" in a["message"] for a in antagonism)


def test_offered_foscarnet_carries_its_renal_dose(knowledge: Knowledge) -> None:
    # CrCl 77.8 mL/min / 70 kg = 1.11 mL/min/kg: FOSCAVIR band > 1.0–1.4, 45 mg/kg q8h = 3150 mg
    reasons = _options(run(knowledge, KIDNEY_DPOS_RNEG))
    assert any(r.startswith("foscarnet if chosen: 3150 mg, every 8 hours, iv") for r in reasons)


def test_treatment_dose_without_an_indication_is_read_as_treatment(knowledge: Knowledge) -> None:
    # valganciclovir 900 mg q12h (1,800 mg/day) started 2026-06-10 with no indication, day 9 (no
    # refractory call yet): above the 900 mg/day prophylaxis dose at CrCl ≥ 60 → treatment dose
    raw = with_(
        KIDNEY_DPOS_RNEG,
        therapy=[
            {
                "drug": "valganciclovir",
                "dose_mg": 900,
                "every_h": 12,
                "route": "oral",
                "start": "2026-06-10",
            }
        ],
    )
    document = run(knowledge, raw)
    assert outcomes(document)["antiviral-prophylaxis"] == "not_indicated"
    assert [r for r in document["regimens"] if r["indication"] == "prophylaxis"] == []
    assert any(
        "treatment-dose (no indication given)" in r
        for r in decision(document, "antiviral-prophylaxis")["reasons"]
    )


def test_prophylaxis_dose_without_an_indication_stays_prophylaxis(knowledge: Knowledge) -> None:
    # 900 mg once daily from day 3 is the prophylaxis dose: prophylaxis continues from its start,
    # through day 200 (2026-07-29); no viral load after its start
    raw = with_(
        KIDNEY_DPOS_RNEG,
        presentation=None,
        observations=KIDNEY_DPOS_RNEG["observations"][:1],
        therapy=[
            {
                "drug": "valganciclovir",
                "dose_mg": 900,
                "every_h": 24,
                "route": "oral",
                "start": "2026-01-13",
            }
        ],
    )
    document = run(knowledge, raw)
    assert outcomes(document)["antiviral-prophylaxis"] == "recommended"
    [chosen] = regimens(document, "valganciclovir")
    assert (chosen["indication"], chosen["dose_mg"], chosen["every_h"]) == ("prophylaxis", 900, 24)
    assert (chosen["start"], chosen["stop"]) == ("2026-01-13", "2026-07-29")


def test_new_prophylaxis_after_treatment_is_not_dated_from_the_treatment(
    knowledge: Knowledge,
) -> None:
    # induction 2026-05-01 → 2026-05-28 stopped, load cleared: prophylaxis resumes from today, not
    # from the induction start
    raw = with_(
        KIDNEY_DPOS_RNEG,
        presentation=None,
        observations=[
            *KIDNEY_DPOS_RNEG["observations"][:1],
            {
                "date": "2026-05-28",
                "code": "cmv_dna",
                "specimen": "plasma",
                "result": "not_detected",
            },
        ],
        therapy=[
            {
                "drug": "valganciclovir",
                "dose_mg": 900,
                "every_h": 12,
                "route": "oral",
                "start": "2026-05-01",
                "stop": "2026-05-28",
                "indication": "induction",
            }
        ],
    )
    document = run(knowledge, raw)
    for chosen in regimens(document, "valganciclovir"):
        assert chosen["indication"] != "prophylaxis" or chosen["start"] == "2026-06-19"


HSCT_R_POS: dict[str, Any] = {
    "id": "hsct-treated",
    "assessed_on": "2026-06-05",
    "context": "transplant",
    "patient": {"sex": "female", "age_years": 45, "weight_kg": 65, "height_cm": 165},
    "transplant": {
        "organ": "hsct",
        "allogeneic": True,
        "date": "2026-05-01",
        "donor_cmv_igg": "negative",
        "recipient_cmv_igg": "positive",
        "co_medications": ["tacrolimus"],
    },
    "observations": [
        {"date": "2026-06-04", "code": "creatinine", "value": 0.8, "unit": "mg/dL"},
        {"date": "2026-06-04", "code": "anc", "value": 2000, "unit": "cells/uL"},
    ],
}


def test_hsct_letermovir_is_not_recommended_beside_treatment(knowledge: Knowledge) -> None:
    # day 35, letermovir since day 5; IV ganciclovir induction since 2026-06-01 (5 mg/kg q12h)
    raw = with_(
        HSCT_R_POS,
        therapy=[
            {
                "drug": "letermovir",
                "dose_mg": 480,
                "every_h": 24,
                "route": "oral",
                "start": "2026-05-06",
                "indication": "prophylaxis",
            },
            {
                "drug": "ganciclovir",
                "dose_mg_per_kg": 5,
                "every_h": 12,
                "route": "iv",
                "start": "2026-06-01",
                "indication": "induction",
            },
        ],
    )
    document = run(knowledge, raw)
    assert outcomes(document)["antiviral-prophylaxis"] == "not_indicated"
    assert regimens(document, "letermovir") == []
    assert any(
        "stop letermovir while treatment runs" in r
        for r in decision(document, "antiviral-prophylaxis")["reasons"]
    )


def test_hsct_surveillance_without_letermovir_does_not_name_it(knowledge: Knowledge) -> None:
    # probe9 vignette x15: day 35, no letermovir (late for the day 0–28 window): the weekly PCR is
    # surveillance, not "during letermovir"
    document = run(knowledge, HSCT_R_POS)
    assert outcomes(document)["antiviral-prophylaxis"] == "specialist_review"
    assert outcomes(document)["preemptive-therapy"] == "recommended"
    reasons = decision(document, "preemptive-therapy")["reasons"]
    assert not any("letermovir" in r for r in reasons), reasons
    # with letermovir running the sentence says so
    on_letermovir = with_(
        HSCT_R_POS,
        therapy=[
            {
                "drug": "letermovir",
                "dose_mg": 480,
                "every_h": 24,
                "route": "oral",
                "start": "2026-05-06",
                "indication": "prophylaxis",
            }
        ],
    )
    reasons = decision(run(knowledge, on_letermovir), "preemptive-therapy")["reasons"]
    assert any("during letermovir" in r for r in reasons)


def test_no_prophylaxis_regimen_beside_an_option_it_must_not_be_combined_with(
    knowledge: Knowledge,
) -> None:
    document = run(knowledge, KIDNEY_DPOS_RNEG)
    offered_maribavir = any("never with (val)ganciclovir" in r for r in _options(document))
    assert offered_maribavir
    assert not [r for r in document["regimens"] if r["drug"] in GANCICLOVIRS]


@pytest.mark.parametrize(
    ("every_h", "start", "reading"),
    [(24, "2026-01-13", "prophylaxis"), (12, "2026-06-01", "treatment")],
)
def test_a_course_without_an_indication_is_read_by_its_dose_everywhere(
    knowledge: Knowledge, every_h: int, start: str, reading: str
) -> None:
    # valganciclovir 900 mg without an indication, load 5,000 → 80,000 IU/mL (06-01 → 06-18).
    # Once daily since day 3 is the prophylaxis dose (Valcyte label, CrCl ≥ 60): a breakthrough on
    # prophylaxis (Kotton 2018: treatment dose, genotype after prolonged exposure), never a
    # refractory call on "therapy". Twice daily is a treatment dose: refractory after 17 days
    # (Chemaly 2019), never "breakthrough on prophylaxis".
    raw = with_(
        KIDNEY_DPOS_RNEG,
        presentation=None,
        therapy=[
            {
                "drug": "valganciclovir",
                "dose_mg": 900,
                "every_h": every_h,
                "route": "oral",
                "start": start,
            }
        ],
    )
    document = run(knowledge, raw)
    messages = " ".join(a["message"] for a in document["alerts"])
    assert outcomes(document)["antiviral-prophylaxis"] == "not_indicated"
    assert [r for r in document["regimens"] if r["indication"] == "prophylaxis"] == []
    if reading == "prophylaxis":
        assert "refractory-cmv" not in alerts(document)
        assert "on valganciclovir prophylaxis" in messages
        assert outcomes(document)["preemptive-therapy"] == "recommended"
        [given] = regimens(document, "valganciclovir")
        assert (given["indication"], given["dose_mg"], given["every_h"]) == ("preemptive", 900, 12)
    else:
        assert "refractory-cmv" in alerts(document)
        assert "prophylaxis" not in messages.replace("prophylaxis beside", "")
        assert outcomes(document)["antiviral-treatment"] == "specialist_review"
