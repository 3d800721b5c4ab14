"""H3–H5 with a running drug other than valganciclovir: continue the course in force as the
drug it is (debt22: a running cidofovir induction was read as a valganciclovir induction, dosed
with valganciclovir from the cidofovir start).

The US HIV OI guideline (CMV chapter) prefers oral valganciclovir for chronic maintenance and
lists IV ganciclovir, foscarnet and cidofovir (5 mg/kg every other week with probenecid and
saline) as alternatives; those are chosen when ganciclovir is not tolerated or does not work, and
no source tells to switch a patient back. So a running maintenance course of one of the
guideline's anti-CMV drugs is continued at its label dose, adjusted by the label's on-therapy renal
rows (VISTIDE: a creatinine rise of 0.3–0.4 mg/dL above baseline reduces 5 to 3 mg/kg; ≥ 0.5 mg/dL
or ≥ 3+ proteinuria discontinues it: maintenance then goes on with the guideline's preferred drug,
oral valganciclovir, dosed by the caller). A running induction of one of them is continued the
same way to the end of its induction (``continue_induction``): its label dose, its own dates.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case
from cmvcds.domain.vocabulary import Indication, Outcome
from cmvcds.engine.monitoring import current_weight, fired_rules, therapy_courses
from cmvcds.engine.transplant.common import Plan, Therapy, not_given, regimen

__all__ = ["continue_induction", "continue_maintenance"]


def _mg(value: Decimal) -> str:
    return f"{value.normalize():f}"


def continue_maintenance(
    plan: Plan, case: Case, on: date, running: Therapy, stop_rule: str
) -> bool:
    """Close ``plan`` with the running maintenance drug's regimen (renally adjusted by its label);
    False, with the reason, when its label discontinues it (the caller gives valganciclovir)."""
    return _continue(plan, case, on, running, Indication.MAINTENANCE, None, stop_rule)


def continue_induction(
    plan: Plan, case: Case, on: date, running: Therapy, stop: date, stop_rule: str
) -> bool:
    """Close ``plan`` with the running induction drug's regimen from its own start to ``stop``
    (renally adjusted by its label's on-therapy rows); False, with the reason, when its label
    discontinues it (the caller gives the guideline's preferred drug, oral valganciclovir)."""
    return _continue(plan, case, on, running, Indication.INDUCTION, stop, stop_rule)


def _continue(
    plan: Plan,
    case: Case,
    on: date,
    running: Therapy,
    indication: Indication,
    stop: date | None,
    stop_rule: str,
) -> bool:
    drug = running.drug
    phase = indication.value
    course = next(
        (c for c in therapy_courses(case.therapy) if c.drug == drug and c.active_on(on)), None
    )
    fired = fired_rules(plan.result, case, plan.knowledge, course, on) if course else []
    for rule, shown in fired[:1]:
        plan.cite(rule, f"{drug} on-therapy renal rule {rule.id}")
        if rule.effect == "discontinue":
            plan.because(
                f"{shown}: {rule.message} {phase.capitalize()} goes on with the guideline's preferred "
                f"drug, oral valganciclovir; {drug} stops today ({on})"
            )
            return False
    plan.because(
        f"continue the {phase} drug in force ({drug}, "
        f"{'since' if running.start <= on else 'from'} {running.start}): a guideline "
        f"{phase} option; a change to oral valganciclovir is the prescriber's choice"
    )
    outcome, chosen = regimen(
        plan.result,
        case,
        plan.knowledge,
        on,
        drug,
        indication,
        start=running.start,
        stop=stop,
        stop_rule=stop_rule,
        population="hiv",
        route=running.route,
    )
    if chosen is None:
        if not not_given(plan, case, drug):
            plan.because(
                f"the dosing engine gives no {phase} dose of {drug} for this patient "
                f"({outcome.value}); see its alerts"
            )
        plan.done(Outcome.SPECIALIST_REVIEW)
        return True
    reduce = [rule for rule, _ in fired if rule.effect == "reduce"]
    if reduce:
        rule = reduce[0]
        weight = current_weight(case, on)
        assert rule.dose_mg_per_kg is not None
        if weight is None:
            plan.because(f"{rule.message} The reduced dose needs the current weight")
            plan.result.regimens.remove(chosen)
            plan.done(Outcome.INSUFFICIENT_DATA)
            return True
        dose = rule.dose_mg_per_kg * Decimal(weight)
        every = Decimal(str(chosen.every_h)) if chosen.every_h else None
        adjusted = replace(
            chosen,
            dose_mg=float(dose),
            dose_mg_per_kg=float(rule.dose_mg_per_kg),
            daily_mg=float(dose * 24 / every) if every else None,
            citations=tuple(dict.fromkeys((*chosen.citations, *rule.citations))),
        )
        regimens = plan.result.regimens
        regimens[regimens.index(chosen)] = adjusted
        plan.because(
            f"{next(s for r, s in fired if r is rule)}: {rule.message} Now {_mg(dose)} mg "
            f"({_mg(rule.dose_mg_per_kg)} mg/kg × {_mg(Decimal(weight))} kg)"
        )
    plan.done(Outcome.RECOMMENDED)
    return True
