"""The transplant pathway (SOT and HSCT): prevention, pre-emptive therapy, treatment, refractory CMV.

``evaluate(case, knowledge, on, settings)`` answers ``antiviral-prophylaxis`` and
``preemptive-therapy`` (``sot`` or ``hsct``), and ``antiviral-treatment`` when there is CMV disease,
a treatment course, or refractory/resistant CMV (``treatment``, ``refractory``). Rule ids (T1–T24)
are those of ../shared/clinical/transplant-hiv.md §7.
"""

from __future__ import annotations

from datetime import date, timedelta

from cmvcds.domain.case import Case
from cmvcds.domain.results import Decision, Missing, PathwayResult
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import AlertCode, DecisionId, Indication, Outcome, Severity
from cmvcds.engine.transplant.common import (
    Plan,
    Tables,
    Therapy,
    add_alert,
    current_course,
    regimen,
    tables,
    treatment_dose,
)
from cmvcds.engine.transplant.hsct import hsct_prevention, marrow_choice
from cmvcds.engine.transplant.preemptive import surveillance
from cmvcds.engine.transplant.refractory import manage, status
from cmvcds.engine.transplant.sot import serostatus_group, sot_prevention
from cmvcds.engine.transplant.treatment import reduce_immunosuppression_alert, treat_disease
from cmvcds.knowledge import Knowledge

__all__ = ["evaluate", "treatment_decision"]

_DISEASE = ("cmv_syndrome", "tissue_invasive")


def evaluate(case: Case, knowledge: Knowledge, on: date, settings: SiteSettings) -> PathwayResult:
    """The transplant decisions for ``case`` on ``on``."""
    result = PathwayResult()
    tx = case.transplant
    if tx is None:
        result.missing.append(
            Missing("transplant", "the transplant section (organ, date, serostatus) is required")
        )
        result.decisions.append(
            Decision(
                DecisionId.ANTIVIRAL_PROPHYLAXIS,
                Outcome.INSUFFICIENT_DATA,
                ("No transplant section in the case.",),
                ("cmvcds2026-case-format",),
                ("T1",),
            )
        )
        return result
    t = tables(knowledge)
    population = "hsct" if tx.organ == "hsct" else "sot"
    prophylaxis = Plan(result, knowledge, settings, DecisionId.ANTIVIRAL_PROPHYLAXIS)
    preemptive = Plan(result, knowledge, settings, DecisionId.PREEMPTIVE_THERAPY)
    if population == "hsct":
        hsct_prevention(case, on, t, prophylaxis, preemptive)
    else:
        sot_prevention(case, on, t, prophylaxis, preemptive)
    treatment_decision(case, knowledge, on, settings, result, population=population)
    findings: dict[str, object] = {"organ": tx.organ}
    if tx.date is not None:
        findings["post_transplant_day"] = (on - tx.date).days
    group = serostatus_group(tx)
    if group is not None:
        findings["serostatus"] = {"d_pos_r_neg": "D+/R-", "r_pos": "R+", "d_neg_r_neg": "D-/R-"}[
            group
        ]
    result.findings["transplant"] = findings
    return result


def treatment_decision(
    case: Case,
    knowledge: Knowledge,
    on: date,
    settings: SiteSettings,
    result: PathwayResult,
    *,
    population: str,
    threshold_setting: str | None = None,
) -> Outcome | None:
    """``antiviral-treatment`` for CMV disease or refractory/resistant CMV; None when not relevant."""
    t = tables(knowledge)
    threshold = threshold_setting or (
        "pet_threshold_iu_ml.hsct" if population == "hsct" else "pet_threshold_iu_ml.sot"
    )
    _letermovir_as_treatment(case, on, t, result)
    p = case.presentation
    disease = p is not None and p.disease in _DISEASE
    course = current_course(case, on, t.treatment.treatment_drugs.values)
    plan = Plan(result, knowledge, settings, DecisionId.ANTIVIRAL_TREATMENT)
    underdosed = False
    if course is not None or case.genotype:
        found = status(case, on, t, plan)
        if found.mismatch is not None:
            plan.rule("T20")
            plan.cite(t.treatment.min_treatment_days, "refractory CMV needs comparable loads")
            add_alert(
                result,
                AlertCode.ASSAY_MISMATCH,
                Severity.WARNING,
                f"{found.mismatch}: no refractory call; repeat the load with the baseline's specimen and assay.",
                t.treatment.min_treatment_days.citations,
            )
            missing = Missing(
                "cmv_dna",
                "a blood viral load in the same specimen, assay and unit as the baseline (T20)",
            )
            if missing not in result.missing:
                result.missing.append(missing)
            plan.because(f"{found.mismatch}: response to therapy cannot be judged")
            plan.done(Outcome.INSUFFICIENT_DATA)
            return Outcome.INSUFFICIENT_DATA
        if found.applies:
            outcome = manage(case, on, t, plan, found, population=population)
            plan.done(outcome)
            return outcome
        underdosed = found.underdosed
    treating = (
        course is not None
        and course.indication not in ("prophylaxis", "preemptive")
        and not (course.indication is None and _prophylaxis_dose(case, on, knowledge, course))
    )
    if not disease and not treating:
        return None
    plan.reasons.clear()
    if underdosed and course is not None:
        plan.rule("T20")
        plan.because(
            f"the {course.drug} dose in force is below target: not appropriately dosed, so no refractory "
            "call and no switch; give the dosing engine's dose and check adherence",
            (t.treatment.min_treatment_days, "appropriately dosed therapy"),
        )
    marrow = False
    if population == "hsct":
        plan.rule("T16")
        choice = marrow_choice(case, on, plan, t) if course is None else None
        marrow = choice is not None and choice[0] == "foscarnet"
        organs = p.organs if p else ()
        if any(o in t.treatment.hsct_pneumonitis_ivig.values for o in organs):
            plan.because(
                "CMV pneumonia: adding IVIG is debated; specialist decision",
                (t.treatment.hsct_pneumonitis_ivig, "IVIG in CMV pneumonia"),
            )
    outcome = treat_disease(
        case, on, t, plan, population=population, threshold_setting=threshold, marrow_drug=marrow
    )
    special = [o for o in (p.organs if p else ()) if o in t.treatment.specialist_organs.values]
    if special and outcome is Outcome.RECOMMENDED:
        plan.because(
            f"{', '.join(special)}: the whole plan needs specialist review",
            (t.treatment.specialist_organs, "specialist plan for CNS or ocular disease"),
        )
        outcome = Outcome.SPECIALIST_REVIEW
    if disease:
        reduce_immunosuppression_alert(plan, t, case)
    if outcome is Outcome.NOT_INDICATED and population == "sot":
        _secondary_prevention(case, on, t, plan)
    plan.done(outcome)
    return outcome


def _prophylaxis_dose(case: Case, on: date, knowledge: Knowledge, course: Therapy) -> bool:
    """A course given without an indication at (or below) the prophylaxis dose is prophylaxis,
    not a treatment course to continue at treatment dose (probe9 #3, the mirror case: 900 mg
    once daily was read as induction and "continued" at 900 mg twice daily)."""
    entries = [
        e
        for e in case.therapy
        if e.drug == course.drug and e.start <= on and (e.stop is None or e.stop >= on)
    ]
    latest = max(entries, key=lambda e: e.start, default=None)
    return latest is not None and treatment_dose(case, on, knowledge, latest) is False


def _letermovir_as_treatment(case: Case, on: date, t: Tables, result: PathwayResult) -> None:
    for course in case.therapy:
        if (
            course.drug in t.treatment.not_treatment_drugs.values
            and course.indication not in (None, "prophylaxis")
            and course.start <= on
            and (course.stop is None or course.stop >= on)
        ):
            add_alert(
                result,
                AlertCode.NOT_A_TREATMENT_DRUG,
                Severity.CRITICAL,
                f"{course.drug} is a prophylaxis drug, not a treatment for CMV infection or disease.",
                result.cite(
                    t.treatment.not_treatment_drugs, f"{course.drug} is not a treatment drug"
                ),
            )


def _secondary_prevention(case: Case, on: date, t: Tables, plan: Plan) -> None:
    """T10: after a treated episode in SOT, the site's secondary prevention."""
    plan.rule("T10")
    choice = plan.setting("secondary_prophylaxis_sot")
    if choice is None:
        plan.because(
            "secondary prevention after treatment: the site's choice secondary_prophylaxis_sot is not set"
        )
        return
    plan.cite_setting("secondary_prophylaxis_sot")
    if choice == "valganciclovir":
        days = plan.setting("secondary_prophylaxis_days")
        if days is None:
            plan.because(
                "valganciclovir secondary prophylaxis: its length secondary_prophylaxis_days is not set"
            )
            return
        stop = on + timedelta(days=int(days))
        outcome, _ = regimen(
            plan.result,
            case,
            plan.knowledge,
            on,
            "valganciclovir",
            Indication.PROPHYLAXIS,
            start=on,
            stop=stop,
            stop_rule=f"secondary prophylaxis for {days} days",
            population="sot",
        )
        plan.because(
            f"then valganciclovir secondary prophylaxis for {days} days (site setting)"
            + (
                ""
                if outcome is Outcome.RECOMMENDED
                else f"; no dose from the dosing engine ({outcome.value})"
            )
        )
    elif choice == "surveillance":
        interval = t.sot.surveillance_interval_days
        plan.cite(interval, "weekly viral-load surveillance")
        horizon = t.monitoring.open_course_horizon_days
        plan.cite(horizon, "surveillance horizon")
        surveillance(
            plan,
            on,
            on + timedelta(days=int(horizon.value)),
            on,
            int(interval.value),
            "surveillance after a treated CMV episode; re-assess at the end of the horizon",
        )
        plan.because("then weekly viral-load surveillance (site setting)")
    else:
        plan.because("no secondary prevention (site setting)")
    tx = case.transplant
    if tx is not None and tx.organ == "kidney" and tx.recipient_cmv_igg == "positive":
        option = t.treatment.option("reduce-immunosuppression")
        add_alert(
            plan.result,
            AlertCode.REDUCE_IMMUNOSUPPRESSION,
            Severity.INFO,
            "R+ kidney recipient after a CMV episode: consider an mTOR inhibitor instead of mycophenolate.",
            option.citations,
        )
