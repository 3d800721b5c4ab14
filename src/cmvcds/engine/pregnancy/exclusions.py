"""The exclusion criteria of the AIFA protocol (rule A7, interpretation I-4).

Age < 12 years, creatinine > 1.1 mg/dL and glomerular filtration < 90 mL/min are independent:
any one excludes, each inequality strict as printed. A reported eGFR is used as reported; without
one, the eGFR is computed from the latest creatinine with CKD-EPI 2021 (race-free; not validated
in pregnancy) and the formula is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Missing, PathwayResult
from cmvcds.engine.renal import ckd_epi_2021
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import RenalFormulas
from cmvcds.knowledge.schemas.pregnancy import PregnancyProtocol

__all__ = ["Exclusions", "check_exclusions"]


@dataclass(frozen=True)
class Exclusions:
    """What excludes (reasons), whether any is renal, what is missing, and the renal findings."""

    excluded: tuple[str, ...]
    renal: bool
    missing: tuple[Missing, ...]
    findings: dict[str, Any]
    citations: tuple[str, ...]


def check_exclusions(
    case: Case, on: date, protocol: PregnancyProtocol, knowledge: Knowledge, result: PathwayResult
) -> Exclusions:
    reasons: list[str] = []
    renal = False
    missing: list[Missing] = []
    findings: dict[str, Any] = {}
    citations: list[str] = []
    age = case.patient.age_on(on)
    rule = protocol.exclusion_age
    citations += result.cite(rule, "age exclusion (< 12 years)")
    if age is None:
        missing.append(
            Missing(
                "patient.birth_date",
                "age is an exclusion criterion (< 12 years) and enters the eGFR",
            )
        )
    elif rule.met_by(age):
        reasons.append(f"Age {age} years {rule.text()}: excluded (rule A7).")
    creatinine = _latest(case, "creatinine", on)
    rule = protocol.exclusion_creatinine
    citations += result.cite(rule, "creatinine exclusion (> 1.1 mg/dL; unit assumed)")
    if creatinine is None or creatinine.value is None:
        missing.append(
            Missing(
                "creatinine",
                "baseline creatinine is needed before valacyclovir (exclusion > 1.1 mg/dL, rule A7)",
            )
        )
    else:
        findings["creatinine_mg_dl"] = creatinine.value.quantize(Decimal("0.01"))
        findings["creatinine_date"] = creatinine.date
        if rule.met_by(creatinine.value):
            renal = True
            reasons.append(
                f"Creatinine {_mg_dl(creatinine)} on {creatinine.date} {rule.text()}: excluded (rule A7)."
            )
    egfr, method = _egfr(case, on, age, creatinine, knowledge, citations)
    rule = protocol.exclusion_egfr
    citations += result.cite(
        rule, "glomerular filtration exclusion (< 90 mL/min; equation not stated)"
    )
    if egfr is None:
        if creatinine is not None and age is not None:
            missing.append(
                Missing(
                    "egfr", "eGFR could not be computed; report it (exclusion < 90 mL/min, rule A7)"
                )
            )
    else:
        findings["egfr"] = _shown(egfr)
        findings["egfr_method"] = method
        if egfr < rule.limit:
            renal = True
            reasons.append(
                f"eGFR {_shown(egfr)} mL/min/1.73 m² ({method}) {rule.text()}: excluded (rule A7)."
            )
    return Exclusions(
        tuple(reasons), renal, tuple(missing), findings, tuple(dict.fromkeys(citations))
    )


def _latest(case: Case, code: str, on: date) -> Observation | None:
    found = [o for o in case.results(code) if o.date <= on and o.value is not None]
    return found[-1] if found else None


def _egfr(
    case: Case,
    on: date,
    age: Decimal | None,
    creatinine: Observation | None,
    knowledge: Knowledge,
    citations: list[str],
) -> tuple[Fraction | Decimal | None, str | None]:
    reported = _latest(case, "egfr", on)
    fresh = reported is not None and (creatinine is None or reported.date >= creatinine.date)
    if reported is not None and reported.value is not None and fresh:
        return reported.value, f"reported on {reported.date}"
    if creatinine is None or creatinine.value is None or age is None:
        return None, None
    formulas = knowledge.table("renal_formulas", RenalFormulas)
    sex = case.patient.sex.value if case.patient.sex else "female"
    clearance = ckd_epi_2021(
        formulas, creatinine_mg_dl=creatinine.value, age_years=int(age), sex=sex
    )
    citations += clearance.citations
    method = (
        f"CKD-EPI 2021 from creatinine {_mg_dl(creatinine)} of {creatinine.date}, age {age}, {sex}"
    )
    return clearance.value, method + "; not validated in pregnancy"


def _mg_dl(creatinine: Observation) -> str:
    """Creatinine as shown: mg/dL to 2 decimals, with the value as given when it was converted."""
    assert creatinine.value is not None
    shown = f"{creatinine.value.quantize(Decimal('0.01'))} mg/dL"
    if creatinine.given and not creatinine.given.endswith("mg/dL"):
        shown += f" ({creatinine.given})"
    return shown


def _shown(value: Fraction | Decimal) -> Decimal:
    """The eGFR for display, truncated to one decimal (never rounded up across the limit)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(int(value * 10)) / 10
