"""Every key the case format accepts is used by some rule, refused, or metadata (issue 14 item 2).

The test walks the case model (pydantic fields, recursively) and requires, for every key path, an
entry here: either a case from ``examples/`` with one change that changes the assessment (proof
that a rule reads the key), a proof that the parser refuses it on input, or a metadata entry with
its reason. A new field without an entry fails ``test_every_accepted_key_is_accounted_for``; an
entry whose change leaves the answer untouched fails ``test_changing_the_key_changes_the_answer``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import yaml

from cmvcds.assess import assess
from cmvcds.domain.case import Case, parse_case
from cmvcds.domain.settings import parse_settings
from cmvcds.engine.dosing import dose_patient_from_case, recommend_dose
from cmvcds.errors import CaseFormatError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.base import Strict
from tests.conftest import TODAY

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def key_paths(model: type[Strict], prefix: str = "") -> list[str]:
    """Every leaf key of ``model``: ``patient.weight_kg``, ``observations[].value`` …"""
    paths: list[str] = []
    for name, field in model.model_fields.items():
        nested = _models(field.annotation)
        if nested:
            for sub, suffix in nested:
                paths += key_paths(sub, f"{prefix}{name}{suffix}.")
        else:
            paths.append(f"{prefix}{name}")
    return paths


def _models(annotation: Any) -> list[tuple[type[Strict], str]]:
    if isinstance(annotation, type) and issubclass(annotation, Strict):
        return [(annotation, "")]
    found: list[tuple[type[Strict], str]] = []
    for arg in get_args(annotation):
        if get_origin(annotation) is tuple and isinstance(arg, type) and issubclass(arg, Strict):
            found.append((arg, "[]"))
        elif arg is not Ellipsis:
            found += _models(arg)
    return found


#: Keys that identify or label the case; no clinical rule may depend on them.
METADATA = {
    "format": "the format tag; only cmvcds-case/1 is accepted (a version marker, design §3)",
    "id": "the case identifier, echoed as case_id; never clinical",
}


def example(name: str) -> dict[str, Any]:
    raw = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def twins() -> dict[str, Any]:
    raw = example("pregnancy-fetal-treatment")
    raw["pregnancy"]["fetuses"] = 2
    raw["observations"][6]["fetus"] = 1
    raw["observations"].append({**raw["observations"][6], "fetus": 2})
    raw["ultrasound"][1]["fetus"] = 1
    raw["ultrasound"].append({**raw["ultrasound"][1], "fetus": 2, "findings": ["ascites"]})
    del raw["ultrasound"][2]["ventricle_mm"]
    return raw


def auc_profile() -> dict[str, Any]:
    raw = example("congenital-long-course")
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "ganciclovir_auc12"]
    for hours, value in ((0, 2.0), (2, 8.0), (12, 1.5)):
        raw["observations"].append({"date": "2026-01-04", "code": "ganciclovir_concentration",
                                    "value": value, "unit": "mg/L", "hours_after_dose": hours})  # fmt: skip
    return raw


def per_kg_course() -> dict[str, Any]:
    raw = example("congenital")
    raw["therapy"] = [{"drug": "valganciclovir", "dose_mg_per_kg": 16, "every_h": 12,
                       "route": "oral", "start": "2026-03-10"}]  # fmt: skip
    return raw


def kidney(creatinine: float = 1.8, **patient: Any) -> dict[str, Any]:
    raw = example("transplant-kidney-dposrneg")
    raw["patient"].update(patient)
    raw["observations"][0]["value"] = creatinine
    return raw


def infant_kidney() -> dict[str, Any]:
    """A 5-month-old kidney recipient: the label's paediatric valganciclovir dose (BSA, Schwartz)."""
    raw = kidney(0.3)
    raw["patient"] = {"sex": "male", "birth_date": "2025-10-01", "weight_kg": 6, "height_cm": 62,
                      "birth_weight_for_gestational_age": "appropriate"}  # fmt: skip
    return raw


def congenital_by_diagnosis_block() -> dict[str, Any]:
    """The congenital example diagnosed by its ``congenital.diagnosis`` alone (no PCR row)."""
    raw = example("congenital")
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "cmv_dna"]
    return raw


def congenital_birth_weight_only() -> dict[str, Any]:
    raw = example("congenital")
    del raw["patient"]["weight_kg"]
    raw["observations"] = [o for o in raw["observations"] if o["code"] != "weight"]
    return raw


def isolated_hearing_loss() -> dict[str, Any]:
    raw = example("congenital")
    raw["congenital"]["manifestations"] = []
    return raw


def ganciclovir_overdose() -> dict[str, Any]:
    raw = example("transplant-refractory")
    raw["therapy"][1].update({"drug": "ganciclovir", "route": "iv", "dose_mg": 700})
    return raw


def retinitis_zone_only() -> dict[str, Any]:
    raw = example("hiv-retinitis")
    del raw["hiv"]["retinitis"]["sight_threatening"]
    return raw


def immunocompetent_end_organ() -> dict[str, Any]:
    raw = example("immunocompetent-mononucleosis")
    raw["presentation"] = {
        "disease": "tissue_invasive",
        "organs": ["encephalitis"],
        "severity": "life_threatening",
    }
    return raw


def hsct_on_cyclosporine() -> dict[str, Any]:
    """The HSCT letermovir example with its cyclosporine as a dated course (240 mg letermovir)."""
    raw = example("transplant-hsct-letermovir")
    raw["transplant"]["co_medications"] = []
    raw["medications"] = [{"drug": "cyclosporine", "start": "2026-04-28"}]
    return raw


def followed_up() -> dict[str, Any]:
    """The long course with recorded follow-up: the right ear 40 → 55 dB HL (a deterioration),
    a developmental delay at 6 months."""
    raw = example("congenital-long-course")
    raw["congenital"]["follow_up"] = [
        {"date": "2025-06-20", "assessment": "hearing", "ear": "right", "threshold_db": 40},
        {"date": "2025-12-15", "assessment": "hearing", "ear": "right", "threshold_db": 55},
        {"date": "2025-12-15", "assessment": "neurodevelopment", "result": "abnormal"},
    ]
    return raw


def stopped_course() -> dict[str, Any]:
    """A congenital course stopped before 6 months: why it stopped decides what follows."""
    raw = example("congenital-long-course")
    raw["therapy"][1]["stop"] = "2025-10-01"
    return raw


def pregnant_with_illness() -> dict[str, Any]:
    raw = example("pregnancy")
    raw["observations"] = [
        o for o in raw["observations"] if o["code"] != "cmv_igg" or o["result"] == "positive"
    ]
    raw["presentation"] = {"disease": "cmv_syndrome", "severity": "mild"}
    return raw


Base = Callable[[], dict[str, Any]]
#: key path → (base case, changes {dotted path: new value}). Each change is a valid value.
USES: dict[str, tuple[Base, dict[str, Any]]] = {
    "assessed_on": (lambda: example("pregnancy"), {"assessed_on": "2026-03-20"}),
    "context": (lambda: example("immunocompetent-mononucleosis"), {"context": "immunocompromised"}),
    "patient.sex": (lambda: kidney(1.5), {"patient.sex": "female"}),
    "patient.birth_date": (lambda: example("pregnancy"), {"patient.birth_date": "2014-06-01"}),
    "patient.age_years": (lambda: example("transplant-kidney-dposrneg"), {"patient.age_years": 80}),
    "patient.weight_kg": (kidney, {"patient.weight_kg": 50}),
    "patient.dialysis": (lambda: example("transplant-kidney-dposrneg"), {"patient.dialysis": "hemodialysis"}),
    "patient.child_pugh": (lambda: example("transplant-hsct-letermovir"), {"patient.child_pugh": "C"}),
    "patient.can_take_oral": (lambda: example("immunocompromised-colitis"), {"patient.can_take_oral": False}),
    "patient.intolerances": (lambda: example("transplant-kidney-dposrneg"), {"patient.intolerances": ["valganciclovir"]}),
    "patient.icu": (lambda: example("immunocompetent-mononucleosis"), {"patient.icu": True}),
    "pregnancy.lmp": (lambda: example("pregnancy"), {"pregnancy.lmp": "2025-12-27"}),
    "pregnancy.edd": (lambda: example("pregnancy-excluded-renal"), {"pregnancy.edd": "2026-10-03"}),
    "pregnancy.dating.date": (lambda: example("pregnancy-non-primary"), {"pregnancy.dating.date": "2026-02-17"}),
    "pregnancy.dating.gestational_age": (
        lambda: example("pregnancy-non-primary"), {"pregnancy.dating.gestational_age": "11+1"}),
    "pregnancy.fetuses": (lambda: example("pregnancy"), {"pregnancy.fetuses": 2}),
    "pregnancy.symptom_onset": (lambda: example("pregnancy"), {"pregnancy.symptom_onset": "2026-02-01"}),
    "pregnancy.amniocentesis_declined": (lambda: example("pregnancy"), {"pregnancy.amniocentesis_declined": True}),
    "pregnancy.amniocentesis_booked": (lambda: example("pregnancy"), {"pregnancy.amniocentesis_booked": "2026-05-15"}),
    "observations[].date": (lambda: example("pregnancy"), {"observations.0.date": "2025-11-10"}),
    "observations[].code": (lambda: example("pregnancy"), {"observations.1.code": "cmv_igm"}),
    "observations[].result": (lambda: example("pregnancy"), {"observations.0.result": "positive"}),
    "observations[].value": (lambda: example("congenital-long-course"), {"observations.7.value": 500}),
    "observations[].unit": (lambda: example("pregnancy-fetal-treatment"), {"observations.6.unit": "IU/mL"}),
    "observations[].specimen": (lambda: example("pregnancy-fetal-treatment"), {"observations.6.specimen": "urine"}),
    "observations[].reported": (lambda: example("pregnancy-fetal-treatment"), {"observations.6.reported": "2026-05-20"}),
    "observations[].fetus": (twins, {"observations.8.fetus": 1}),
    "observations[].hours_after_dose": (auc_profile, {"observations.12.hours_after_dose": 4}),
    "ultrasound[].date": (lambda: example("pregnancy-fetal-treatment"), {"ultrasound.1.date": "2026-05-20"}),
    "ultrasound[].findings": (lambda: example("pregnancy-fetal-treatment"), {"ultrasound.1.findings": ["hydrocephalus"]}),
    "ultrasound[].fetus": (twins, {"ultrasound.2.fetus": 1}),
    "ultrasound[].bowel_grade": (lambda: example("pregnancy-fetal-treatment"), {"ultrasound.1.bowel_grade": 2}),
    "ultrasound[].placenta_mm": (lambda: example("pregnancy-fetal-treatment"), {"ultrasound.1.placenta_mm": 45}),
    "ultrasound[].ventricle_mm": (lambda: example("pregnancy-fetal-treatment"), {"ultrasound.1.ventricle_mm": 16}),
    "ultrasound[].cisterna_magna_mm": (
        lambda: example("pregnancy-fetal-treatment"), {"ultrasound.1.cisterna_magna_mm": 12}),
    "ultrasound[].head_circumference_sd": (
        lambda: example("pregnancy-fetal-treatment"), {"ultrasound.1.head_circumference_sd": -3.5}),
    "therapy[].drug": (lambda: example("transplant-refractory"), {"therapy.1.drug": "ganciclovir"}),
    "therapy[].dose_mg": (lambda: example("congenital-long-course"), {"therapy.1.dose_mg": 112}),
    "therapy[].dose_mg_per_kg": (per_kg_course, {"therapy.0.dose_mg_per_kg": 12}),
    "therapy[].every_h": (lambda: example("congenital-long-course"), {"therapy.1.every_h": 24}),
    "therapy[].route": (ganciclovir_overdose, {"therapy.1.route": "intravitreal"}),
    "therapy[].start": (lambda: example("congenital-long-course"), {"therapy.0.start": "2025-07-10"}),
    "therapy[].stop": (lambda: example("hiv-retinitis-maintenance"), {"therapy.0.stop": "2026-02-14"}),
    "therapy[].stop_reason": (stopped_course, {"therapy.1.stop_reason": "held_toxicity"}),
    "therapy[].indication": (lambda: example("hiv-retinitis-maintenance"), {"therapy.1.indication": "induction"}),
    "medications[].drug": (hsct_on_cyclosporine, {"medications.0.drug": "tacrolimus"}),
    "medications[].start": (hsct_on_cyclosporine, {"medications.0.start": "2026-05-02"}),
    "medications[].stop": (hsct_on_cyclosporine, {"medications.0.stop": "2026-05-02"}),
    "congenital.gestational_age_at_birth": (
        lambda: example("congenital"), {"congenital.gestational_age_at_birth": "30+0"}),
    "congenital.birth_weight_kg": (congenital_birth_weight_only, {"congenital.birth_weight_kg": 1.7}),
    "congenital.diagnosis.date": (congenital_by_diagnosis_block, {"congenital.diagnosis.date": "2026-03-02"}),
    "congenital.diagnosis.specimen": (congenital_by_diagnosis_block, {"congenital.diagnosis.specimen": "saliva"}),
    "congenital.manifestations": (lambda: example("congenital"), {"congenital.manifestations": []}),
    "congenital.hearing": (isolated_hearing_loss, {"congenital.hearing": "normal"}),
    "congenital.follow_up[].date": (followed_up, {"congenital.follow_up.0.date": "2025-12-20"}),
    "congenital.follow_up[].assessment": (followed_up, {"congenital.follow_up.2.assessment": "ophthalmology"}),
    "congenital.follow_up[].ear": (followed_up, {"congenital.follow_up.1.ear": "left"}),
    "congenital.follow_up[].threshold_db": (followed_up, {"congenital.follow_up.1.threshold_db": 45}),
    "congenital.follow_up[].result": (followed_up, {"congenital.follow_up.2.result": "normal"}),
    "transplant.organ": (lambda: example("transplant-kidney-dposrneg"), {"transplant.organ": "liver"}),
    "transplant.date": (lambda: example("transplant-kidney-dposrneg"), {"transplant.date": "2026-01-01"}),
    "transplant.donor_cmv_igg": (lambda: example("transplant-kidney-dposrneg"), {"transplant.donor_cmv_igg": "negative"}),
    "transplant.recipient_cmv_igg": (
        lambda: example("transplant-kidney-dposrneg"), {"transplant.recipient_cmv_igg": "positive"}),
    "transplant.allogeneic": (lambda: example("transplant-hsct-letermovir"), {"transplant.allogeneic": False}),
    "transplant.co_medications": (lambda: example("transplant-hsct-letermovir"), {"transplant.co_medications": []}),
    "transplant.hsct_risk": (lambda: example("transplant-hsct-letermovir"), {"transplant.hsct_risk": ["haploidentical"]}),
    "hiv.on_art": (lambda: example("hiv-retinitis"), {"hiv.on_art": True}),
    "hiv.art_start": (lambda: example("hiv-retinitis-maintenance"), {"hiv.art_start": "2025-06-01"}),
    "hiv.retinitis.zone": (retinitis_zone_only, {"hiv.retinitis.zone": 2}),
    "hiv.retinitis.active": (lambda: example("hiv-retinitis-maintenance"), {"hiv.retinitis.active": True}),
    "hiv.retinitis.sight_threatening": (lambda: example("hiv-retinitis"), {"hiv.retinitis.sight_threatening": False}),
    "presentation.disease": (lambda: example("immunocompromised-colitis"), {"presentation.disease": "cmv_syndrome"}),
    "presentation.organs": (immunocompetent_end_organ, {"presentation.organs": ["gastrointestinal"]}),
    "presentation.severity": (lambda: example("immunocompromised-colitis"), {"presentation.severity": "severe"}),
    "presentation.symptom_onset": (pregnant_with_illness, {"presentation.symptom_onset": "2026-02-10"}),
    "presentation.course": (lambda: example("transplant-refractory"), {"presentation.course": "worsening"}),
    "genotype[].date": (lambda: example("transplant-refractory"), {"genotype.0.date": "2026-06-01"}),
    "genotype[].mutations": (lambda: example("transplant-refractory"), {"genotype.0.mutations": []}),
    "genotype[].genes_tested": (lambda: example("transplant-refractory"), {"genotype.0.genes_tested": ["UL97"]}),
}  # fmt: skip

#: Keys read only by the dose calculator (``cmvcds dose --case``, and every regimen of a patient
#: it can dose): key path → (base, changes, drug, indication). ``assess`` sends an infant
#: transplant recipient to specialist review, so the proof is the dose document.
DOSE_USES: dict[str, tuple[Base, dict[str, Any], str, str]] = {
    "patient.height_cm": (infant_kidney, {"patient.height_cm": 68}, "valganciclovir", "prophylaxis"),
    "patient.birth_weight_for_gestational_age": (
        infant_kidney, {"patient.birth_weight_for_gestational_age": "low"}, "valganciclovir", "prophylaxis"),
}  # fmt: skip

#: Keys the model holds but the parser refuses on input: key path → a case carrying it.
REFUSED: dict[str, tuple[Base, dict[str, Any]]] = {
    "observations[].given": (lambda: example("pregnancy"), {"observations.5.given": "0.62 mg/dL"}),
}


def test_every_accepted_key_is_accounted_for() -> None:
    paths = set(key_paths(Case))
    accounted = set(METADATA) | set(USES) | set(DOSE_USES) | set(REFUSED)
    assert paths - accounted == set(), "add a use (a case and one change), a refusal or a reason"
    assert accounted - paths == set(), "entries for keys the case format no longer has"


def _changed(raw: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node: Any = out
        for part in parents:
            node = node[int(part)] if re.fullmatch(r"\d+", part) else node.setdefault(part, {})
        node[int(last) if re.fullmatch(r"\d+", last) else last] = value
    return out


def _answer(raw: dict[str, Any], knowledge: Knowledge) -> dict[str, Any]:
    site = parse_settings(example("settings"), knowledge)
    case = parse_case(copy.deepcopy(raw), knowledge, today=TODAY)
    document = assess(case, knowledge, settings=site).to_dict()
    document.pop("case_id")
    return document


@pytest.mark.parametrize("path", sorted(USES))
def test_changing_the_key_changes_the_answer(path: str, knowledge: Knowledge) -> None:
    base, changes = USES[path]
    raw = base()
    before = _answer(raw, knowledge)
    after = _answer(_changed(raw, changes), knowledge)
    assert after != before, f"{path}: {changes} left the assessment unchanged (the key is unused)"


@pytest.mark.parametrize("path", sorted(REFUSED))
def test_internal_key_is_refused_on_input(path: str, knowledge: Knowledge) -> None:
    base, changes = REFUSED[path]
    _answer(base(), knowledge)  # the base is accepted
    with pytest.raises(CaseFormatError) as caught:
        _answer(_changed(base(), changes), knowledge)
    assert "unknown key" in caught.value.message


@pytest.mark.parametrize("path", sorted(DOSE_USES))
def test_changing_the_key_changes_the_dose(path: str, knowledge: Knowledge) -> None:
    base, changes, drug, indication = DOSE_USES[path]

    def dose(raw: dict[str, Any]) -> dict[str, Any]:
        case = parse_case(copy.deepcopy(raw), knowledge, today=TODAY)
        patient = dose_patient_from_case(case, case.assessed_on)
        return recommend_dose(patient, drug, indication, knowledge).to_dict()

    before, after = dose(base()), dose(_changed(base(), changes))
    assert before["outcome"] == "recommended", before
    assert after != before, f"{path}: {changes} left the dose unchanged (the key is unused)"


# --- observation codes: each accepted code is read by some rule --------------------------------


def _without(raw: dict[str, Any], code: str) -> dict[str, Any]:
    raw["observations"] = [o for o in raw["observations"] if o["code"] != code]
    return raw


def _add(raw: dict[str, Any], *observations: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    out["observations"] = [*out["observations"], *observations]
    return out


#: code → (base, the base with one more observation of that code). Each case is from examples/.
CODE_USES: dict[str, tuple[Base, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "cmv_igg": (lambda: example("pregnancy"), lambda r: _add(r, {"date": "2025-11-01", "code": "cmv_igg", "result": "positive"})),
    "cmv_igm": (lambda: _without(example("pregnancy-non-primary"), "cmv_igm"),
                lambda r: _add(r, {"date": "2026-03-06", "code": "cmv_igm", "result": "negative"})),
    "cmv_igg_avidity": (lambda: _without(example("pregnancy-excluded-renal"), "cmv_igg_avidity"),
                        lambda r: _add(r, {"date": "2026-02-20", "code": "cmv_igg_avidity", "result": "low"})),
    "cmv_dna": (lambda: example("pregnancy"), lambda r: _add(r, {"date": "2026-03-01", "code": "cmv_dna", "specimen": "amniotic_fluid", "result": "detected"})),
    "creatinine": (lambda: example("transplant-kidney-dposrneg"), lambda r: _add(r, {"date": "2026-03-06", "code": "creatinine", "value": 3.5, "unit": "mg/dL"})),
    "egfr": (lambda: example("pregnancy-excluded-renal"), lambda r: _add(r, {"date": "2026-02-21", "code": "egfr", "value": 60, "unit": "mL/min/1.73m2"})),
    "creatinine_clearance_24h": (lambda: example("transplant-kidney-dposrneg"), lambda r: _add(r, {"date": "2026-03-06", "code": "creatinine_clearance_24h", "value": 20, "unit": "mL/min"})),
    "anc": (lambda: example("congenital-long-course"), lambda r: _add(r, {"date": "2026-01-05", "code": "anc", "value": 400, "unit": "cells/uL"})),
    "platelets": (lambda: example("congenital-long-course"), lambda r: _add(r, {"date": "2026-01-05", "code": "platelets", "value": 20000, "unit": "/uL"})),
    "hemoglobin": (lambda: example("congenital-long-course"), lambda r: _add(r, {"date": "2026-01-05", "code": "hemoglobin", "value": 6, "unit": "g/dL"})),
    "weight": (lambda: example("congenital-long-course"), lambda r: _add(r, {"date": "2026-01-05", "code": "weight", "value": 8.0, "unit": "kg"})),
    "cd4": (lambda: example("hiv-retinitis-maintenance"), lambda r: _add(r, {"date": "2026-08-14", "code": "cd4", "value": 60, "unit": "cells/uL"})),
    "ganciclovir_auc12": (lambda: example("congenital-long-course"), lambda r: _add(r, {"date": "2026-01-05", "code": "ganciclovir_auc12", "value": 60, "unit": "mg·h/L"})),
    "ganciclovir_concentration": (lambda: example("congenital-long-course"), lambda r: auc_profile()),
    "alt": (lambda: example("congenital-long-course"), lambda r: _add(r, {"date": "2026-01-05", "code": "alt", "value": 400, "unit": "U/L"})),
    "hiv_rna": (lambda: example("hiv-retinitis-maintenance"), lambda r: _add(r, {"date": "2026-08-14", "code": "hiv_rna", "value": 250000, "unit": "copies/mL"})),
}  # fmt: skip

#: code → (base, changes) read only by the dose calculator (``cmvcds dose --case``).
CODE_DOSE_USES: dict[str, tuple[Base, Callable[[dict[str, Any]], dict[str, Any]], str, str]] = {
    "height": (infant_kidney, lambda r: _add(r, {"date": "2026-03-05", "code": "height", "value": 68, "unit": "cm"}),
               "valganciclovir", "prophylaxis"),
    "urine_protein": (lambda: kidney(1.0), lambda r: _add(r, {"date": "2026-03-05", "code": "urine_protein", "value": 150, "unit": "mg/dL"}),
                      "cidofovir", "induction"),
}  # fmt: skip


def test_every_observation_code_is_accounted_for(knowledge: Knowledge) -> None:
    from cmvcds.knowledge.schemas.core import ObservationCatalogue

    codes = set(knowledge.table("observations", ObservationCatalogue).codes)
    accounted = set(CODE_USES) | set(CODE_DOSE_USES)  # every code is read by some rule
    assert codes == accounted


@pytest.mark.parametrize("code", sorted(CODE_USES))
def test_an_observation_of_the_code_changes_the_answer(code: str, knowledge: Knowledge) -> None:
    base, add = CODE_USES[code]
    raw = base()
    if code == "ganciclovir_concentration":  # the profile vs the same case without it
        raw = example("congenital-long-course")
        raw["observations"] = [o for o in raw["observations"] if o["code"] != "ganciclovir_auc12"]
    assert _answer(add(raw), knowledge) != _answer(raw, knowledge), code


@pytest.mark.parametrize("code", sorted(CODE_DOSE_USES))
def test_an_observation_of_the_code_changes_the_dose(code: str, knowledge: Knowledge) -> None:
    base, add, drug, indication = CODE_DOSE_USES[code]

    def dose(raw: dict[str, Any]) -> dict[str, Any]:
        case = parse_case(copy.deepcopy(raw), knowledge, today=TODAY)
        return recommend_dose(
            dose_patient_from_case(case, case.assessed_on), drug, indication, knowledge
        ).to_dict()

    assert dose(add(base())) != dose(base()), code
