"""``cmvcds dose [CASE] --drug D --indication I``: the labelled dose, explained for a pharmacist.

The patient comes from a case file, from flags (``--age --sex --weight-kg --height-cm
--creatinine --egfr``), or both (a flag overrides the case). Flags are turned into a case and parsed by the
case parser, so the same plausibility limits and unit conversions apply (exit code 2 on bad input).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cmvcds.adapters.cli.common import emit, exits_on_error, knowledge_pack, read_case_file, today
from cmvcds.domain.vocabulary import Indication
from cmvcds.errors import CaseFormatError, InputError
from cmvcds.knowledge import Knowledge


class DoseFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class Region(StrEnum):
    US = "us"
    EU = "eu"


class WeightBasisChoice(StrEnum):
    ACTUAL = "actual"
    IDEAL = "ideal"
    ADJUSTED = "adjusted"


def dose(
    case: Annotated[
        Path | None, typer.Argument(help="Case file (YAML or JSON); optional with flags.")
    ] = None,
    drug: Annotated[
        str, typer.Option("--drug", help="Drug (lowercase INN), e.g. valganciclovir.")
    ] = "",
    indication: Annotated[
        Indication | None, typer.Option("--indication", help="What the dose is for.")
    ] = None,
    regimen: Annotated[
        str | None, typer.Option("--regimen", help="A label alternative, e.g. 90-q12h.")
    ] = None,
    route: Annotated[
        str | None, typer.Option("--route", help="oral or iv, where the label offers both.")
    ] = None,
    region: Annotated[
        Region, typer.Option("--region", help="us (label) or eu (SmPC).")
    ] = Region.US,
    weight_basis: Annotated[
        WeightBasisChoice,
        typer.Option(
            "--weight-basis",
            help="Cockcroft-Gault weight; ideal/adjusted is an institutional policy.",
        ),
    ] = WeightBasisChoice.ACTUAL,
    age: Annotated[Decimal | None, typer.Option("--age", help="Age in years.")] = None,
    birth_date: Annotated[
        str | None, typer.Option("--birth-date", help="Birth date (ISO), for infants.")
    ] = None,
    sex: Annotated[str | None, typer.Option("--sex", help="female or male.")] = None,
    weight_kg: Annotated[
        Decimal | None, typer.Option("--weight-kg", help="Body weight (kg).")
    ] = None,
    height_cm: Annotated[
        Decimal | None, typer.Option("--height-cm", help="Height or length (cm).")
    ] = None,
    creatinine: Annotated[
        Decimal | None, typer.Option("--creatinine", help="Serum creatinine.")
    ] = None,
    creatinine_unit: Annotated[
        str, typer.Option("--creatinine-unit", help="mg/dL or umol/L.")
    ] = "mg/dL",
    egfr: Annotated[
        Decimal | None,
        typer.Option(
            "--egfr", help="Laboratory eGFR (mL/min/1.73 m²), e.g. for a protocol's GFR limit."
        ),
    ] = None,
    crcl_measured: Annotated[
        Decimal | None,
        typer.Option("--crcl-measured", help="Measured 24-h creatinine clearance (mL/min)."),
    ] = None,
    dialysis: Annotated[
        str | None, typer.Option("--dialysis", help="none, hemodialysis, peritoneal or crrt.")
    ] = None,
    organ: Annotated[
        str | None, typer.Option("--organ", help="Transplanted organ (prophylaxis).")
    ] = None,
    co_medication: Annotated[
        list[str] | None,
        typer.Option("--co-medication", help="A co-medication (INN); repeat for more."),
    ] = None,
    intolerance: Annotated[
        list[str] | None,
        typer.Option(
            "--intolerance",
            help="A drug the patient does not tolerate (INN); repeat for more. Never dosed.",
        ),
    ] = None,
    birth_weight_for_ga: Annotated[
        str | None,
        typer.Option("--birth-weight-for-ga", help="low or appropriate (infants < 1 year)."),
    ] = None,
    anc: Annotated[Decimal | None, typer.Option("--anc", help="Neutrophils (cells/µL).")] = None,
    platelets: Annotated[
        Decimal | None, typer.Option("--platelets", help="Platelets (/µL).")
    ] = None,
    hemoglobin: Annotated[
        Decimal | None, typer.Option("--hemoglobin", help="Hemoglobin (g/dL).")
    ] = None,
    urine_protein: Annotated[
        Decimal | None, typer.Option("--urine-protein", help="Urine protein (mg/dL).")
    ] = None,
    format: Annotated[
        DoseFormat, typer.Option("--format", help="Output format.")
    ] = DoseFormat.TEXT,
) -> None:
    """The labelled dose of a CMV antiviral for one patient: renal function, band, row and source."""
    from cmvcds.domain.case import parse_case
    from cmvcds.engine.dosing import dose_patient_from_case, recommend_dose
    from cmvcds.engine.same_time import dose_with_contradictions

    with exits_on_error():
        if not drug:
            raise InputError("required (e.g. --drug valganciclovir)", field="--drug")
        if indication is None:
            raise InputError("required (e.g. --indication induction)", field="--indication")
        raw: dict[str, Any] = read_case_file(case) if case is not None else {}
        knowledge = knowledge_pack()
        if not isinstance(raw, dict):
            raw = {"patient": raw}  # the parser names the problem
        flags = {
            "age_years": age,
            "birth_date": birth_date,
            "sex": sex,
            "weight_kg": weight_kg,
            "height_cm": height_cm,
            "dialysis": dialysis,
            "birth_weight_for_gestational_age": birth_weight_for_ga,
        }
        observations = {
            "creatinine": (creatinine, creatinine_unit),
            "egfr": (egfr, "mL/min/1.73m2"),
            "creatinine_clearance_24h": (crcl_measured, "mL/min"),
            "anc": (anc, "cells/uL"),
            "platelets": (platelets, "/uL"),
            "hemoglobin": (hemoglobin, "g/dL"),
            "urine_protein": (urine_protein, "mg/dL"),
        }
        data = _with_flags(raw, flags, observations, organ, today())
        if intolerance:
            listed = data["patient"].get("intolerances") or []
            data["patient"]["intolerances"] = list(
                dict.fromkeys([*listed, *(d.strip().lower() for d in intolerance)])
            )
        try:
            parsed = parse_case(data, knowledge, today=today())
        except CaseFormatError as error:
            names, dates = _flag_names(raw, observations)
            names |= {f"patient.{key}": _PATIENT_FLAGS[key] for key, v in flags.items() if v is not None}
            raise error.named_as_sent(names, made_by_us=dates) from None
        patient = dose_patient_from_case(parsed, parsed.assessed_on)
        if co_medication:
            medications = (*patient.co_medications, *(m.strip().lower() for m in co_medication))
            patient = replace(patient, co_medications=tuple(dict.fromkeys(medications)))
        result = recommend_dose(
            patient,
            drug,
            indication,
            knowledge,
            regimen=regimen,
            route=route,
            region=region.value,
            weight_basis=weight_basis.value,
        )
        document = dose_with_contradictions(result, parsed, parsed.assessed_on).to_dict()
        document["knowledge"] = knowledge.stamp()
        if format is DoseFormat.JSON:
            emit(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            emit(dose_text(document, knowledge))


def _flag_names(
    raw: dict[str, Any], observations: dict[str, tuple[Decimal | None, str]]
) -> tuple[dict[str, str], list[str]]:
    """The flag of each observation ``_with_flags`` adds to the case (after the file's own), and
    their dates (today's, not typed): a problem is named by the flag the user gave."""
    given = raw.get("observations")
    first = len(given) if isinstance(given, list) else 0
    names: dict[str, str] = {}
    dates = []
    added = [code for code, (value, _) in observations.items() if value is not None]
    for i, code in enumerate(added, start=first):
        flag = "--" + _FLAGS.get(code, code).replace("_", "-")
        names[f"observations[{i}]"] = flag
        if code == "creatinine":
            names[f"observations[{i}].unit"] = "--creatinine-unit"
        dates.append(f"observations[{i}].date")
    return names, dates


#: The flag of each observation code, where it is not the code itself.
_FLAGS = {"creatinine_clearance_24h": "crcl_measured"}
#: The flag of each patient field.
_PATIENT_FLAGS = {
    "age_years": "--age",
    "birth_date": "--birth-date",
    "sex": "--sex",
    "weight_kg": "--weight-kg",
    "height_cm": "--height-cm",
    "dialysis": "--dialysis",
    "birth_weight_for_gestational_age": "--birth-weight-for-ga",
}


def _with_flags(
    raw: dict[str, Any],
    flags: dict[str, Any],
    observations: dict[str, tuple[Decimal | None, str]],
    organ: str | None,
    day: date,
) -> dict[str, Any]:
    """The case mapping with every given flag written into it (a flag overrides the file)."""
    data = dict(raw)
    data.setdefault("id", "cmvcds-dose")
    data.setdefault("context", "transplant" if organ else "immunocompromised")
    patient = dict(data.get("patient") or {})
    for key, value in flags.items():
        if value is not None:
            patient[key] = value  # a Decimal stays a number for the case parser
    if patient.get("age_years") is not None and flags["age_years"] is not None:
        patient.pop("birth_date", None)
    data["patient"] = patient
    on = data.get("assessed_on") or day.isoformat()
    added = [
        {"date": str(on), "code": code, "value": value, "unit": unit}
        for code, (value, unit) in observations.items()
        if value is not None
    ]
    if added:
        data["observations"] = [*(data.get("observations") or []), *added]
    if organ:
        data["transplant"] = {**(data.get("transplant") or {}), "organ": organ}
    return data


def dose_text(document: dict[str, Any], knowledge: Knowledge) -> str:
    """The explanation a pharmacist checks: CrCl with formula and inputs, band, table row, source."""
    lines = [
        f"{document['drug']} — {document['indication']} ({document['region'].upper()} label)",
        f"Outcome: {document['outcome']}",
    ]
    renal = document.get("renal")
    if renal:
        value_key = next(
            k for k in ("crcl_ml_min_kg", "crcl_ml_min_173", "crcl_ml_min") if k in renal
        )
        unit = {
            "crcl_ml_min": "mL/min",
            "crcl_ml_min_kg": "mL/min/kg",
            "crcl_ml_min_173": "mL/min/1.73 m²",
        }[value_key]
        lines.append(f"Renal function: {renal['method']} {renal[value_key]} {unit}")
        lines.append(f"  formula: {renal['formula']}")
        lines.append("  inputs: " + ", ".join(f"{k} {v}" for k, v in renal["inputs"].items()))
        if "band" in renal:
            lines.append(f"  band: {renal['band']}")
        lines += [f"  note: {n}" for n in renal.get("notes", [])]
    if document.get("renal_basis"):
        lines.append(f"  used: {document['renal_basis']}")
    regimen = document.get("regimen")
    phase = regimen
    label = "Regimen"
    while phase:
        lines.append(f"{label}: {_phase_text(phase)}")
        lines.append(
            f"  table row: {phase['row']} — {phase['band']}"
            + (f" — {phase['section']}" if phase.get("section") else "")
        )
        lines += [f"  {a}" for a in phase.get("administration", [])]
        phase = phase.get("then")
        label = "Then"
    if document["reasons"]:
        lines.append("Reasons:")
        lines += [f"  - {r}" for r in document["reasons"]]
    if document["alerts"]:
        lines.append("Alerts:")
        lines += [f"  [{a['severity']}] {a['code']}: {a['message']}" for a in document["alerts"]]
    if document["missing"]:
        lines.append("Missing:")
        lines += [f"  - {m['item']}: {m['why']}" for m in document["missing"]]
    if document.get("inputs_not_used"):
        lines.append("Given but not used:")
        lines += [f"  - {u['input']}: {u['why']}" for u in document["inputs_not_used"]]
    lines.append("Sources:")
    for source_id in document["citations"]:
        source = knowledge.sources.get(source_id)
        text = source.citation() if source else source_id
        flag = "" if source is None or source.verified else " (UNVERIFIED)"
        lines.append(f"  [{source_id}] {text}{flag}")
    stamp = document.get("knowledge")
    if stamp:
        lines.append(f"Knowledge {stamp['version']} sha256 {stamp['sha256'][:12]}")
    return "\n".join(lines)


def _total(phase: dict[str, Any]) -> str:
    """mg/day for a daily schedule; mg/week for fewer than 7 doses a week; nothing for less than
    one dose a week (the schedule says it: 'every 2 weeks')."""
    if "weekly_mg" not in phase:
        return f" ({phase['daily_mg']} mg/day)"
    if float(phase["weekly_mg"]) < float(phase["dose_mg"]):
        return ""
    return f" ({phase['weekly_mg']} mg/week)"


def _phase_text(phase: dict[str, Any]) -> str:
    dose = f"{phase['dose_mg']} mg"
    if "dose_mg_per_kg" in phase:
        dose = f"{phase['dose_mg_per_kg']} mg/kg = {dose}"
    text = f"{dose} {phase['route']} {phase['schedule']}{_total(phase)}"
    if "oral_solution_ml" in phase:
        text += f", oral solution {phase['oral_solution_ml']} mL per dose"
    if phase.get("duration"):
        text += f"; {phase['duration']}"
    return text
