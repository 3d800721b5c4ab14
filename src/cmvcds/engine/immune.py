"""Immunocompetent and other immunocompromised patients (transplant-hiv.md §4–5, rules I1–I5).

Immunocompetent: supportive care by default; severe end-organ disease goes to a specialist with
IV ganciclovir as the suggestion (low evidence); critically ill patients without end-organ disease
get neither prophylaxis nor pre-emptive therapy (two RCTs without benefit). Other immunocompromised
(chemotherapy, biologics, steroids): proven end-organ disease is treated as after transplantation,
asymptomatic DNAemia is not.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from cmvcds.domain.case import Case
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.settings import SiteSettings
from cmvcds.domain.vocabulary import AlertCode, DecisionId, Indication, Outcome, Severity
from cmvcds.engine.medications import immunosuppressive
from cmvcds.engine.transplant import treatment_decision
from cmvcds.engine.transplant.common import Plan, add_alert, not_given, regimen, tables
from cmvcds.knowledge import Knowledge

__all__ = ["evaluate_immunocompetent", "evaluate_immunocompromised"]

_DNAEMIA = ("asymptomatic_dnaemia",)


def evaluate_immunocompetent(
    case: Case, knowledge: Knowledge, on: date, settings: SiteSettings
) -> PathwayResult:
    result = PathwayResult()
    t = tables(knowledge)
    rules = t.immune
    p = case.presentation
    suppressing = immunosuppressive(case, knowledge, on)
    if suppressing:
        add_alert(
            result,
            AlertCode.CONTRADICTORY_INPUT,
            Severity.WARNING,
            f"Assessed as immunocompetent, but on {', '.join(suppressing)}: corticosteroids, "
            "biologics and immunosuppressants make a patient immunocompromised; the immunocompetent "
            "rules (supportive care) may not apply. Reassess in the immunocompromised context.",
            rules.immunocompromised_treated_diseases.citations,
        )
    if case.patient.icu:
        _icu(case, knowledge, settings, result)
    if p is None or p.disease in (None, "none", *_DNAEMIA):
        if not case.patient.icu:
            plan = Plan(result, knowledge, settings, DecisionId.ANTIVIRAL_TREATMENT)
            plan.rule("I1")
            plan.because(
                "no CMV disease in an immunocompetent patient: no antiviral therapy",
                (rules.supportive_care, "supportive care"),
            )
            plan.done(Outcome.NOT_INDICATED)
        return result
    plan = Plan(result, knowledge, settings, DecisionId.ANTIVIRAL_TREATMENT)
    severe_organs = [o for o in p.organs if o in rules.severe_organs.values]
    if severe_organs and p.severity in rules.severe_severities.values:
        plan.rule("I2")
        plan.because(
            f"severe CMV end-organ disease ({', '.join(severe_organs)}) in an apparently immunocompetent patient: "
            "antivirals are reported for the most severe forms; no controlled trials",
            (rules.severe_organs, "severe organ disease"),
            (rules.severe_severities, "severity"),
        )
        add_alert(
            result,
            AlertCode.LOW_EVIDENCE,
            Severity.WARNING,
            "No controlled trials of antivirals in immunocompetent patients: individual specialist decision.",
            rules.severe_organs.citations,
        )
        outcome, _ = regimen(
            result,
            case,
            knowledge,
            on,
            "ganciclovir",
            Indication.INDUCTION,
            start=on,
            stop_rule="specialist decision",
            population="other",
            route="iv",
        )
        if outcome is Outcome.RECOMMENDED or not not_given(plan, case, "ganciclovir"):
            plan.because(
                "suggested if treated: IV ganciclovir"
                + (
                    ""
                    if outcome is Outcome.RECOMMENDED
                    else f" (no dose from the dosing engine: {outcome.value})"
                )
            )
        plan.done(Outcome.SPECIALIST_REVIEW)
        return result
    plan.rule("I1")
    care = ", ".join(rules.supportive_care.values)
    what = (
        "mononucleosis-like illness"
        if p.disease == "cmv_syndrome"
        else f"{', '.join(p.organs) or 'CMV'} disease"
    )
    plan.because(
        f"{what} without severity features in an immunocompetent patient: usually self-limited; supportive care "
        f"({care}); re-assess if organ-threatening features appear",
        (rules.supportive_care, "supportive care"),
    )
    if p.disease == "tissue_invasive":
        plan.rule("I2")
        add_alert(
            result,
            AlertCode.LOW_EVIDENCE,
            Severity.INFO,
            "Non-severe CMV end-organ disease in an immunocompetent patient: supportive care; evidence is limited.",
            rules.severe_organs.citations,
        )
    plan.done(Outcome.NOT_INDICATED)
    return result


def _icu(case: Case, knowledge: Knowledge, settings: SiteSettings, result: PathwayResult) -> None:
    """I3: critically ill, no classic immunosuppression, no end-organ disease."""
    t = tables(knowledge)
    prophylaxis = Plan(result, knowledge, settings, DecisionId.ANTIVIRAL_PROPHYLAXIS)
    prophylaxis.rule("I3")
    prophylaxis.because(
        "critically ill CMV-seropositive adults: ganciclovir prophylaxis is not supported by the trial",
        (t.immune.icu_no_prophylaxis, "no prophylaxis in the ICU"),
    )
    prophylaxis.done(Outcome.NOT_INDICATED)
    preemptive = Plan(result, knowledge, settings, DecisionId.PREEMPTIVE_THERAPY)
    preemptive.rule("I3")
    preemptive.because(
        "CMV reactivation in ventilated patients: pre-emptive ganciclovir did not improve "
        "ventilator-free days or mortality",
        (t.immune.icu_no_preemptive, "no pre-emptive therapy in the ICU"),
    )
    preemptive.done(Outcome.NOT_INDICATED)


def evaluate_immunocompromised(
    case: Case, knowledge: Knowledge, on: date, settings: SiteSettings
) -> PathwayResult:
    result = PathwayResult()
    t = tables(knowledge)
    rules = t.immune
    p = case.presentation
    suppressing = immunosuppressive(case, knowledge, on)
    if suppressing:
        result.findings["immunosuppression"] = suppressing
    prophylaxis = Plan(result, knowledge, settings, DecisionId.ANTIVIRAL_PROPHYLAXIS)
    prophylaxis.rule("I5")
    prophylaxis.because(
        "no routine primary CMV prophylaxis outside transplantation",
        (rules.immunocompromised_treated_diseases, "other immunocompromised patients"),
    )
    prophylaxis.done(Outcome.NOT_INDICATED)
    if p is not None and p.disease in _DNAEMIA:
        preemptive = Plan(result, knowledge, settings, DecisionId.PREEMPTIVE_THERAPY)
        preemptive.rule("I5")
        preemptive.because(
            "asymptomatic DNAemia without end-organ disease: no automatic therapy; a site protocol "
            "for high-risk regimens (e.g. alemtuzumab) may define surveillance",
            (rules.immunocompromised_treated_diseases, "other immunocompromised patients"),
        )
        preemptive.done(Outcome.NOT_INDICATED)
        return result
    if p is not None and p.disease in rules.immunocompromised_treated_diseases.values:
        citations = result.cite(
            rules.immunocompromised_treated_diseases, "treatment of end-organ disease"
        )
        add_alert(
            result,
            AlertCode.OUTSIDE_EVIDENCE_BASE,
            Severity.WARNING,
            "Treatment extrapolated from transplant evidence.",
            citations,
        )
        outcome = treatment_decision(case, knowledge, on, settings, result, population="other")
        if outcome is not None:
            last = result.decisions[-1]
            result.decisions[-1] = replace(last, rules=("I4", *last.rules))
        return result
    if p is not None and p.disease == "cmv_syndrome":
        plan = Plan(result, knowledge, settings, DecisionId.ANTIVIRAL_TREATMENT)
        plan.rule("I4")
        plan.because(
            "CMV syndrome without proven end-organ disease outside transplantation: specialist decision",
            (rules.immunocompromised_treated_diseases, "other immunocompromised patients"),
        )
        plan.done(Outcome.SPECIALIST_REVIEW)
    return result
