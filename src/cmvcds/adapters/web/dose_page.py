"""The dose calculator page: everything ``cmvcds dose`` takes (organ, measured CrCl, eGFR, the
EU/Italian label, weight basis, blood counts, co-medications), the same engine call, and the
answer as a prescriber reads it — one instruction line first, then the renal function, the band,
the table row and its source.

The form's values become a case (as the CLI's flags do) and go through the case parser, so the
same plausibility limits and unit conversions apply and a problem names the field it came from.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cmvcds.adapters.api.deps import ClinicDep
from cmvcds.adapters.api.problems import problems_of
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.web import i18n
from cmvcds.adapters.web.forms import form_to_raw
from cmvcds.adapters.web.i18n import N_, gettext
from cmvcds.adapters.web.render import render
from cmvcds.adapters.web.summary import ROUTE_WORDS, clinical_view
from cmvcds.adapters.web.texts import clinical
from cmvcds.adapters.web.vocab import CHOICES, form_vocabulary
from cmvcds.engine.dosing import dose_patient_from_case, recommend_dose
from cmvcds.engine.renal import WeightBasis
from cmvcds.errors import InputError

__all__ = ["dose_instruction", "router"]

router = APIRouter(include_in_schema=False)

#: The laboratory values of the form, as the case's observations: form name → (code, unit).
LAB_FIELDS = {
    "patient.creatinine": ("creatinine", None),  # unit from patient.creatinine_unit
    "egfr": ("egfr", "mL/min/1.73m2"),
    "crcl_measured": ("creatinine_clearance_24h", "mL/min"),
    "anc": ("anc", "cells/uL"),
    "platelets": ("platelets", "/uL"),
    "hemoglobin": ("hemoglobin", "g/dL"),
    "urine_protein": ("urine_protein", "mg/dL"),
}
PATIENT_FIELDS = (
    "age_years",
    "birth_date",
    "sex",
    "weight_kg",
    "height_cm",
    "dialysis",
    "birth_weight_for_gestational_age",
)
REGIONS = {"us": N_("US label (FDA)"), "eu": N_("EU/Italian label (SmPC, AIFA)")}
WEIGHT_BASIS_WORDS: dict[str, WeightBasis] = {
    "actual": "actual",
    "ideal": "ideal",
    "adjusted": "adjusted",
}
WEIGHT_BASES = {
    "actual": N_("actual body weight"),
    "ideal": N_("ideal body weight (institutional policy)"),
    "adjusted": N_("adjusted body weight (institutional policy)"),
}


def dose_instruction(regimen: dict[str, Any]) -> str:
    """The regimen as one sentence a nurse can act on, e.g. "Give 450 mg by mouth once daily
    until day 200 after transplantation." Each following phase adds "Then …"."""
    sentences: list[str] = []
    phase: dict[str, Any] | None = regimen
    verb = gettext("Give %(amount)s")
    while phase:
        amount = f"{_number(phase['dose_mg'])} mg"
        extras = []
        if "dose_mg_per_kg" in phase:
            extras.append(f"{_number(phase['dose_mg_per_kg'])} mg/kg")
        if "oral_solution_ml" in phase:
            extras.append(
                gettext("%(ml)s mL of the oral solution")
                % {"ml": _number(phase["oral_solution_ml"])}
            )
        if extras:
            amount += f" ({'; '.join(extras)})"
        route = str(phase.get("route") or "")
        route = gettext(ROUTE_WORDS[route]) if route in ROUTE_WORDS else clinical(route)
        text = f"{verb % {'amount': amount}} {route} {clinical(phase['schedule'])}"
        if phase.get("until_post_transplant_day"):
            day = phase["until_post_transplant_day"]
            text += " " + gettext("until day %(day)s after transplantation") % {"day": day}
        elif phase.get("duration"):
            text += f" — {clinical(phase['duration'])}"
        sentences.append(" ".join(text.split()) + ".")
        phase = phase.get("then")
        verb = gettext("Then give %(amount)s")
    return " ".join(sentences)


def _number(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def _dose_case(values: dict[str, str], clinic: Clinic) -> tuple[dict[str, Any], dict[str, str]]:
    """The case the form describes, and the form field of each of its observation rows."""
    raw, _ = form_to_raw(list(values.items()))
    today = clinic.today().isoformat()
    patient = {k: v for k, v in (raw.get("patient") or {}).items() if k in PATIENT_FIELDS}
    if "age_years" in patient:
        patient.pop("birth_date", None)  # as the CLI: an age given wins over a birth date
    # drugs the patient does not tolerate (debt22): never dosed, as the API's and CLI's
    # ``intolerances``; an unknown name is refused by the case parser, naming this field
    intolerant = [d.strip().lower() for d in values.get("intolerances", "").split(",") if d.strip()]
    if intolerant:
        patient["intolerances"] = list(dict.fromkeys(intolerant))
    observations: list[dict[str, Any]] = []
    rows: dict[str, str] = {}
    for name, (code, unit) in LAB_FIELDS.items():
        text = values.get(name, "").strip()
        if not text:
            continue
        value, _ = form_to_raw([("value", text)])
        if code == "creatinine":
            unit = values.get("patient.creatinine_unit") or "mg/dL"
        rows[f"observations[{len(observations)}]"] = name
        observations.append({"date": today, "code": code, "value": value["value"], "unit": unit})
    organ = values.get("organ", "").strip()
    case: dict[str, Any] = {
        "format": "cmvcds-case/1",
        "id": "dose-calculator",
        "assessed_on": today,
        "context": "transplant" if organ else "immunocompromised",
        "patient": patient,
        "observations": observations,
    }
    if organ:
        case["transplant"] = {"organ": organ}
    return case, rows


def _choice(values: dict[str, str], name: str, choices: dict[str, str], default: str) -> str:
    """The chosen word of a select, refused when it is not one of the select's options."""
    word = values.get(name, "").strip() or default
    if word not in choices:
        raise InputError(f"{word!r} is not one of {', '.join(choices)}", field=name)
    return word


def _form_field(path: str, rows: dict[str, str]) -> str:
    """The form's name of a case path (``observations[1].value`` → ``crcl_measured``)."""
    if path.startswith("patient.intolerances"):
        return "intolerances"
    row = path.split(".", 1)[0]
    return rows.get(row, path)


def _answer(values: dict[str, str], clinic: Clinic) -> dict[str, Any]:
    drug = values.get("drug", "").strip()
    indication = values.get("indication", "").strip()
    if not drug:
        raise InputError("required", field="drug")
    if indication not in CHOICES["indication"]:
        raise InputError(f"{indication!r} is not an indication", field="indication")
    case_raw, _ = _dose_case(values, clinic)
    case = clinic.parse(case_raw)
    patient = dose_patient_from_case(case, case.assessed_on)
    extra = [m.strip().lower() for m in values.get("co_medications", "").split(",") if m.strip()]
    if extra:
        patient = replace(
            patient, co_medications=tuple(dict.fromkeys((*patient.co_medications, *extra)))
        )
    result = recommend_dose(
        patient,
        drug,
        indication,
        clinic.knowledge,
        regimen=values.get("regimen") or None,
        route=values.get("route") or None,
        region=_choice(values, "region", REGIONS, "us"),
        weight_basis=WEIGHT_BASIS_WORDS[_choice(values, "weight_basis", WEIGHT_BASES, "actual")],
    )
    document: dict[str, Any] = result.to_dict()
    document["knowledge"] = clinic.knowledge.stamp()
    view = clinical_view(document)  # alerts by severity; unverified facts without their notes
    document["shown_alerts"], document["unverified"] = view.alerts, view.unverified
    if document.get("regimen"):
        document["instruction"] = dose_instruction(document["regimen"])
    return document


def _page(clinic: Clinic, values: dict[str, str], **context: Any) -> HTMLResponse:
    status = 422 if context.get("errors") else 200
    html = render(
        "dose.html",
        v=values,
        vocab=form_vocabulary(clinic.knowledge),
        choices=CHOICES,
        regions=REGIONS,
        weight_bases=WEIGHT_BASES,
        title=i18n.gettext("Dose calculator"),
        **{"result": None, "errors": []} | context,
    )
    return HTMLResponse(html, status_code=status)


@router.get("/dose", response_class=HTMLResponse)
def dose_form(clinic: ClinicDep) -> HTMLResponse:
    return _page(clinic, {"patient.creatinine_unit": "mg/dL", "region": "us"})


@router.post("/dose", response_class=HTMLResponse)
async def dose_page(request: Request, clinic: ClinicDep) -> HTMLResponse:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        result = _answer(values, clinic)
    except InputError as error:
        rows = _dose_case(values, clinic)[1]
        errors = [
            f"{_form_field(p['field'], rows)}: {clinical(p['message'])}" for p in problems_of(error)
        ]
        return _page(clinic, values, errors=errors)
    return _page(clinic, values, result=result)
