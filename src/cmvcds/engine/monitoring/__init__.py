"""Therapy monitoring for every course in ``case.therapy`` (infants, transplant, HIV, others).

For each course the pathway plans the surveillance calendar (``schedule``), re-checks the
prescribed dose on the latest weight and renal function through the dosing engine, watches the
blood counts (hold/resume), renal decline, ganciclovir exposure (AUC12 as reported, or computed
from timed concentrations by the trapezoid rule) and the length of the course against its
evidence. Across courses it follows the viral load (``engine/kinetics.py``): a confirmed rise
above the on-treatment nadir is ``suspected-resistance``; in transplant patients a load that
rises (or fails to fall) after two weeks of appropriately dosed therapy is ``refractory-cmv`` /
``probable-refractory-cmv`` (Chemaly 2019), and DNAemia breaking through SOT prophylaxis is
judged by T22 (rising on (val)ganciclovir, at or above the threshold on letermovir); any of these
leads to the ``resistance-genotyping`` decision with the genes to sequence. Every threshold is a
knowledge row (``data/monitoring/``); the drugs' own blood-count limits are read from their label
tables. The calendar of a course in ``therapy`` is planned here only (the pathways plan courses
not yet started). A case with no therapy and no viral load gets an empty result.

One module per question:

courses      therapy entries grouped into courses and episodes; calendar arithmetic
schedule     the surveillance calendar of a course
stop_rule    has a treatment course met its end-of-treatment rule (then nothing more is planned)?
dose         is the dose in force right for today's weight and kidneys?
toxicity     are the blood counts and the kidneys safe to continue (hold/resume, renal decline)?
held         is a course held for toxicity ready to restart, and at what dose?
renal_rules  does the label's on-therapy renal rule reduce or stop the drug (cidofovir)?
duration     is the course longer than its evidence?
exposure     is the ganciclovir AUC12 on target (reported or from timed concentrations)?
refractory   is the infection refractory (Chemaly 2019)?
resistance   is resistance suspected (rise, refractory, breakthrough) -> genotyping?
pathway      evaluate(case, knowledge, on, settings) -> PathwayResult
gate         the same, empty without importing the rest when there is no course and no series
"""

import importlib
from typing import TYPE_CHECKING, Any

from cmvcds.engine.monitoring.gate import evaluate

if TYPE_CHECKING:
    from cmvcds.engine.monitoring.courses import (
        Course,
        Episode,
        add_months,
        days_covered,
        episodes,
        months_on_or_after,
        therapy_courses,
    )
    from cmvcds.engine.monitoring.refractory import RefractoryCall, below_target, refractory_calls
    from cmvcds.engine.monitoring.renal_rules import current_weight, fired_rules
    from cmvcds.engine.monitoring.schedule import plan_schedule, planned_dates

#: The package's other names → their module, imported on first use (PEP 562): a case with
#: nothing to monitor imports none of them (``gate``; issue 20, item 3).
_MODULES = {
    "Course": "courses",
    "Episode": "courses",
    "add_months": "courses",
    "days_covered": "courses",
    "episodes": "courses",
    "months_on_or_after": "courses",
    "therapy_courses": "courses",
    "RefractoryCall": "refractory",
    "refractory_calls": "refractory",
    "below_target": "refractory",
    "current_weight": "renal_rules",
    "fired_rules": "renal_rules",
    "plan_schedule": "schedule",
    "planned_dates": "schedule",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Course",
    "Episode",
    "RefractoryCall",
    "add_months",
    "below_target",
    "current_weight",
    "days_covered",
    "episodes",
    "evaluate",
    "fired_rules",
    "months_on_or_after",
    "plan_schedule",
    "planned_dates",
    "refractory_calls",
    "therapy_courses",
]
