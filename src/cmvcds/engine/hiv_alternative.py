"""HIV retinitis induction when valganciclovir is excluded (probe11 W4).

The NIH/CDC/IDSA adult OI guideline lists IV ganciclovir and IV foscarnet as alternatives to oral
valganciclovir for CMV retinitis induction (``hiv_cmv.induction_alternatives``, in the order
tried); each is dosed by the dosing engine, which applies its own label checks (IV ganciclovir,
like valganciclovir, is not given below 500 neutrophils/µL: Cytovene label §5.1). The first
alternative the dosing engine does not exclude is offered, with why the ones before it were not.
"""

from __future__ import annotations

from datetime import date

from cmvcds.domain.case import Case
from cmvcds.domain.vocabulary import Indication, Outcome
from cmvcds.engine.dosing import recommend_dose
from cmvcds.engine.dosing.patient import dose_patient_from_case
from cmvcds.engine.transplant.common import Plan, Tables, add_alert, give

__all__ = ["excluded", "induction_alternative"]


def excluded(case: Case, on: date, plan: Plan, drug: str, indication: Indication) -> bool:
    """Whether the dosing engine excludes ``drug`` for this patient (a label check or
    interaction refuses it); its alerts are added to the plan's result."""
    dose = recommend_dose(dose_patient_from_case(case, on), drug, indication, plan.knowledge)
    if dose.outcome is not Outcome.EXCLUDED:
        return False
    for alert in dose.alerts:
        add_alert(plan.result, alert.code, alert.severity, alert.message, alert.citations)
    return True


def induction_alternative(
    case: Case, on: date, t: Tables, plan: Plan, stop: date | None, stop_rule: str, start: date
) -> Outcome:
    """The first guideline alternative the dosing engine does not exclude, given by ``give``;
    ``SPECIALIST_REVIEW`` when every one is excluded."""
    options = t.hiv.induction_alternatives
    plan.cite(options, "alternatives to valganciclovir for retinitis induction")
    refused = ["valganciclovir"]
    for drug in options.values:
        if excluded(case, on, plan, drug, Indication.INDUCTION):
            refused.append(drug)
            continue
        plan.because(
            f"{' and '.join(refused)} excluded for this patient (see the alerts): IV {drug} "
            "induction, the guideline's alternative"
        )
        return give(
            plan,
            case,
            on,
            drug,
            Indication.INDUCTION,
            start=start,
            stop=stop,
            stop_rule=stop_rule,
            population="hiv",
            route="iv",
        )
    plan.because(
        f"{', '.join(refused)} all excluded for this patient (see the alerts): specialist review"
    )
    return Outcome.SPECIALIST_REVIEW
