"""CMV prevention after solid-organ transplantation (transplant-hiv.md §1.2–1.3, rules T1–T7).

Serostatus and organ choose the strategy from the ``sot_prevention`` table; where the guideline
leaves the choice to the site (R+ strategy, liver D+/R−, a stop day inside a range, kidney D+/R−
drug) the site's setting decides and is shown in the output.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from cmvcds.domain.case import Case, Transplant
from cmvcds.domain.results import Cited, Missing, PathwayResult, Regimen, ScheduleItem
from cmvcds.domain.settings import SITE, setting_specs
from cmvcds.domain.vocabulary import AlertCode, Indication, Outcome, ScheduleEvent, Severity
from cmvcds.engine.dosing import recommend_dose
from cmvcds.engine.dosing.patient import dose_patient_from_case
from cmvcds.engine.dosing.result import DoseRegimen
from cmvcds.engine.monitoring import below_target, refractory_calls
from cmvcds.engine.transplant.common import (
    Plan,
    Tables,
    Therapy,
    add_alert,
    beside_unclear,
    cmv_antivirals,
    current_course,
    in_place_reason,
    is_below_lloq,
    levels_alert_given,
    other_prevention,
    phase,
    plasma_loads,
    refusal,
    refuse_minor,
    refuse_missing,
    regimen,
    treatment_course,
    unclear_course,
    unclear_reason,
)
from cmvcds.engine.transplant.preemptive import Episode, episode, surveillance
from cmvcds.knowledge.schemas.transplant import SotStrategy, Value

__all__ = ["serostatus_group", "sot_prevention"]


def serostatus_group(transplant: Transplant) -> str | None:
    """``d_pos_r_neg``, ``r_pos`` or ``d_neg_r_neg``; None when a serostatus is missing."""
    donor, recipient = transplant.donor_cmv_igg, transplant.recipient_cmv_igg
    if recipient == "positive":
        return "r_pos"
    if recipient is None or donor is None:
        return None
    return "d_pos_r_neg" if donor == "positive" else "d_neg_r_neg"


def sot_prevention(case: Case, on: date, t: Tables, prophylaxis: Plan, preemptive: Plan) -> None:
    """Decide ``antiviral-prophylaxis`` and ``preemptive-therapy`` for a SOT recipient."""
    result = prophylaxis.result
    tx = case.transplant
    assert tx is not None
    prophylaxis.rule("T1")
    group = serostatus_group(tx)
    missing = []
    if group is None:
        for side in ("donor_cmv_igg", "recipient_cmv_igg"):
            if getattr(tx, side) is None:
                missing.append(
                    Missing(
                        f"transplant.{side}",
                        "CMV serostatus of donor and recipient sets the prevention strategy",
                    )
                )
    if tx.date is None:
        missing.append(
            Missing("transplant.date", "prophylaxis and surveillance are dated from the transplant")
        )
    age = case.patient.age_on(on)
    if age is None:
        missing.append(Missing("patient.age_years", "the SOT rules apply to adults"))
    if missing:  # the rows that need the missing items, named only then (issue 20)
        rows = [r for r in t.sot.strategies if r.organ == tx.organ] or list(t.sot.strategies)
        needs = [(r, f"prevention strategy {r.organ} {r.serostatus}") for r in rows]
        refuse_missing((prophylaxis, preemptive), missing, *needs)
        return
    assert group is not None and tx.date is not None and age is not None
    if refuse_minor((prophylaxis, preemptive), age, t.sot.adult_age_years, "SOT prevention"):
        return
    row = t.sot.strategy(tx.organ, group)
    assert row is not None, f"sot_prevention has no row for {tx.organ} {group}"
    for plan in (prophylaxis, preemptive):
        plan.cite(row, f"prevention strategy {tx.organ} {group}")
    label = {"d_pos_r_neg": "D+/R−", "r_pos": "R+", "d_neg_r_neg": "D−/R−"}[group]
    if row.strategy == "none":
        prophylaxis.rule("T2")
        prophylaxis.because(f"{tx.organ} {label}: no CMV prophylaxis")
        preemptive.because(f"{tx.organ} {label}: no routine viral-load surveillance")
        add_alert(
            result,
            AlertCode.CMV_SAFE_BLOOD_PRODUCTS,
            Severity.INFO,
            "D−/R−: use CMV-safe (leukoreduced or CMV-seronegative) blood products.",
            row.citations,
        )
        prophylaxis.done(Outcome.NOT_INDICATED)
        preemptive.done(Outcome.NOT_INDICATED)
        return
    strategy: str = row.strategy
    if strategy == "site":
        assert row.strategy_setting is not None
        chosen = prophylaxis.setting(row.strategy_setting)
        preemptive.settings_used.append(row.strategy_setting)
        if chosen is None:
            for plan in (prophylaxis, preemptive):
                plan.because(
                    f"{tx.organ} {label}: prophylaxis and pre-emptive therapy are both acceptable; "
                    f"the site's choice {row.strategy_setting} is not set"
                )
                plan.done(Outcome.INSUFFICIENT_DATA)
            return
        prophylaxis.cite_setting(row.strategy_setting)
        strategy = str(chosen)
    if strategy == "prophylaxis":
        _prophylaxis(case, on, t, row, group, label, prophylaxis, preemptive)
    else:
        _preemptive_strategy(case, on, t, row, label, prophylaxis, preemptive)


def _prophylaxis(
    case: Case,
    on: date,
    t: Tables,
    row: SotStrategy,
    group: str,
    label: str,
    prophylaxis: Plan,
    preemptive: Plan,
) -> None:
    result = prophylaxis.result
    tx = case.transplant
    assert tx is not None and tx.date is not None
    prophylaxis.rule("T3")
    stop_day = row.stop_day
    if stop_day is None:
        assert row.stop_day_setting is not None and row.stop_day_range is not None
        value = prophylaxis.setting(row.stop_day_setting)
        if value is None:
            prophylaxis.because(
                f"{tx.organ} {label}: prophylaxis for {row.stop_day_range[0]}–{row.stop_day_range[1]} days; "
                f"the site's point {row.stop_day_setting} is not set"
            )
            prophylaxis.done(Outcome.INSUFFICIENT_DATA)
            preemptive.because("no routine viral-load monitoring during prophylaxis")
            preemptive.done(Outcome.NOT_INDICATED)
            return
        stop_day = int(value)
        low, high = row.stop_day_range
        add_alert(
            result,
            AlertCode.CONFIG_RANGE,
            Severity.INFO,
            f"Prophylaxis through day {stop_day}: the {_whose(prophylaxis, row.stop_day_setting)} point "
            f"inside the guideline range day {low}–{high} ({row.stop_day_setting}).",
            row.citations,
        )
    drug = t.sot.prophylaxis_drug.values[0]
    prophylaxis.cite(t.sot.prophylaxis_drug, "prophylaxis drug")
    continued: str | None = None
    if row.drug_setting:
        chosen = prophylaxis.setting(row.drug_setting)
        running = _running_option(case, on, row.drug_setting, prophylaxis)
        if running is not None and running.drug != chosen:
            # debt22: a running prophylaxis course of another of the row's options (kidney
            # D+/R−: valganciclovir or letermovir) goes on as the drug it is; the site's choice
            # is for a course not yet started (never a second prophylaxis drug beside the first);
            # said once no DNAemia stops it (review12 S4)
            chosen = running.drug
            continued = (
                f"{tx.organ} {label}: {running.drug} prophylaxis running since {running.start}, "
                f"one of the guideline's options: continued (the {_whose(prophylaxis, row.drug_setting)} "
                f"choice {row.drug_setting} is for a new course)"
            )
        if chosen is None:
            prophylaxis.because(
                f"{tx.organ} {label}: valganciclovir or letermovir; the site's choice {row.drug_setting} is not set"
            )
            prophylaxis.done(Outcome.INSUFFICIENT_DATA)
            preemptive.because("no routine viral-load monitoring during prophylaxis")
            preemptive.done(Outcome.NOT_INDICATED)
            return
        drug = str(chosen)
    stop = tx.date + timedelta(days=stop_day)
    day = (on - tx.date).days
    if on > stop:
        _after_prophylaxis(case, on, t, row, group, label, stop, stop_day, prophylaxis, preemptive)
        return
    if case.presentation is not None and case.presentation.disease in (
        "cmv_syndrome",
        "tissue_invasive",
    ):
        for plan in (prophylaxis, preemptive):
            plan.because(
                f"CMV disease during the prophylaxis period (through {stop}): treatment replaces it; "
                "prevention is decided again when treatment ends"
            )
            plan.done(Outcome.NOT_INDICATED)
        return
    if under_treatment(case, on, t, prophylaxis, preemptive):
        return
    if beside_unclear(case, on, t, drug, prophylaxis, preemptive):
        return  # review11 S2: no second antiviral beside a course that may be treatment
    if _dnaemia_beside(case, on, t, drug, prophylaxis, preemptive):
        return  # review11 S2: DNAemia during a course the breakthrough rules do not read
    unclear = unclear_course(case, on, prophylaxis.knowledge)
    if unclear is not None:
        unclear_reason(prophylaxis, unclear)  # review9b: prophylaxis kept, the indication asked
    pet = _breakthrough(case, on, t, prophylaxis, preemptive)
    if pet is not None and pet.active:
        prophylaxis.because(
            "treatment-dose therapy for DNAemia replaces prophylaxis while it runs; prevention is decided "
            "again when it stops"
        )
        prophylaxis.done(Outcome.NOT_INDICATED)
        preemptive.done(pet.outcome)
        return
    if pet is not None and pet.unclassified:
        _over_unclassified(
            case, on, t, row, group, label, stop, stop_day, drug, prophylaxis, preemptive, pet
        )
        return
    if continued is not None:
        prophylaxis.because(continued)
    window = t.sot.prophylaxis_start_window_days
    if drug == "letermovir":
        outcome = _letermovir(case, on, t, group, prophylaxis)
    else:
        outcome = _valganciclovir(case, on, t, row, group, label, stop, stop_day, prophylaxis)
    other = other_prevention(case, on, prophylaxis.knowledge, drug)
    if other is not None:
        if outcome is None:  # review11 S2: a switch, never beside it
            in_place_reason(prophylaxis, other, drug)
    elif day > window.high and current_course(case, on, (drug,)) is None:
        prophylaxis.because(
            f"day {day}: later than the usual start window (day {int(window.low)}–{int(window.high)}); start now",
            (window, "prophylaxis start window"),
        )
    prophylaxis.done(outcome or Outcome.RECOMMENDED)
    ends = [r.stop for r in result.regimens if r.indication == Indication.PROPHYLAXIS and r.stop]
    if outcome is None and group == "d_pos_r_neg" and ends:
        _late_cmv_risk(result, max(ends), row.citations)
    if pet is not None:
        preemptive.done(pet.outcome)
        return
    preemptive.rule("T3")
    preemptive.because(
        "no routine viral-load monitoring while prophylaxis runs",
        (t.sot.surveillance_interval_days, "no routine QNAT during prophylaxis"),
    )
    preemptive.done(Outcome.NOT_INDICATED)


def under_treatment(case: Case, on: date, t: Tables, prophylaxis: Plan, preemptive: Plan) -> bool:
    """Close both prevention decisions when CMV infection is being treated; True if so.

    A running treatment course (``treatment_course``: induction or refractory therapy, or a
    treatment dose given without an indication) or a refractory call on the viral loads means
    the infection is treated under ``antiviral-treatment``: prophylaxis is not given beside it
    (treatment-dose therapy replaces it, and a prophylaxis course of a drug the treatment
    options exclude, such as valganciclovir beside maribavir, must not be recommended), and no
    separate pre-emptive course starts. A pre-emptive course is left to ``_breakthrough`` (T10).
    Prevention is decided again when treatment stops (Kotton 2018 §treatment; probe9 #3).
    """
    course = treatment_course(case, on, prophylaxis.knowledge)
    if course is not None and course.indication == "preemptive":
        return False
    calls = [
        c
        for c in refractory_calls(case, prophylaxis.knowledge, on)
        if c.evaluable and c.code is not None
    ]
    if course is None and not calls:
        return False
    if course is not None:
        given = course.indication or "treatment-dose (no indication given)"
        what = f"{course.drug} {given} therapy running since {course.start}"
    else:
        code = calls[0].code
        assert code is not None
        what = f"{code.value.replace('-', ' ')}, {calls[0].series}"
    fact = (t.treatment.treatment_drugs, "treatment of CMV infection replaces prevention")
    prophylaxis.rule("T20")
    prophylaxis.because(
        f"CMV infection under treatment ({what}): no prophylaxis beside it; prevention is "
        "decided again when treatment stops",
        fact,
    )
    prophylaxis.done(Outcome.NOT_INDICATED)
    preemptive.because(
        f"CMV infection under treatment ({what}): managed under antiviral-treatment, not as a "
        "separate pre-emptive course",
        fact,
    )
    preemptive.done(Outcome.NOT_INDICATED)
    return True


def _breakthrough(
    case: Case, on: date, t: Tables, prophylaxis: Plan, preemptive: Plan
) -> Episode | None:
    """DNAemia during the prophylaxis period (T20, T8 → T6, T22); None when there is none.

    A pre-emptive course started for it is continued or stopped (T10). Otherwise a detected blood
    load since the prophylaxis course began is a breakthrough: check adherence, absorption and the
    dose for the renal function (the monitoring pathway decides genotyping); at or above the site's
    threshold treatment-dose therapy starts (T6), below it prophylaxis goes on with a repeat load
    in a week; with no threshold set, specialist review (T8).
    """
    result = prophylaxis.result
    drugs = (*t.sot.prophylaxis_drug.values, "ganciclovir", "letermovir")
    course = current_course(case, on, drugs)
    if course is None:
        return _untreated_dnaemia(case, on, t, preemptive)
    if course.indication not in (None, "prophylaxis", "preemptive"):
        return None
    if course.indication is None and treatment_course(case, on, prophylaxis.knowledge) is not None:
        return None  # a treatment dose given without an indication (``under_treatment``)
    pet = partial(_off_protocol_episode, case, on, t, preemptive)
    if course.indication == "preemptive":
        return pet()
    loads = [o for o in plasma_loads(case, on) if o.date > course.start]
    if loads and loads[-1].result == "detected_below_lloq":
        # fixr23a: DNA below the LLOQ on prophylaxis is not a breakthrough to treat (no quantity
        # reaches a pre-emptive threshold, Kotton 2018; most such results stay below the LLOQ or
        # clear, January 2022): prophylaxis continues, the load is repeated after one interval
        interval = t.sot.surveillance_interval_days
        preemptive.rule("T20")
        preemptive.because(
            f"CMV DNA detected below the LLOQ on {loads[-1].date} during {course.drug} prophylaxis: "
            "not a DNAemia to treat; continue prophylaxis, check adherence and the dose for the "
            f"renal function, and repeat the viral load in {int(interval.value)} days",
            (interval, "weekly viral load"),
        )
        _repeat_viral_load(
            result.schedule,
            on,
            interval,
            "repeat CMV viral load: DNA below the LLOQ on prophylaxis",
        )
        return Episode(Outcome.NOT_INDICATED, False)
    if not loads or is_below_lloq(loads[-1]):
        return None
    latest = loads[-1]
    shown = f"{latest.value} {latest.unit}" if latest.value is not None else "detected"
    prophylaxis.rule("T20")
    preemptive.rule("T8")
    low = course.drug in below_target(case, prophylaxis.knowledge, on)
    interval = t.sot.surveillance_interval_days
    add_alert(
        result,
        AlertCode.CHECK_DOSING_ADHERENCE,
        Severity.WARNING,
        f"Breakthrough CMV DNAemia on {course.drug} prophylaxis ({shown} on {latest.date}): check adherence, "
        "absorption and the dose for the current renal function"
        + ("; the prescribed dose is below the dosing engine's target" if low else "")
        + ".",
        result.cite(t.treatment.min_treatment_days, "appropriately dosed therapy"),
    )
    found = pet()
    if found is not None:
        return found
    if latest.value is None:
        return _unquantified(on, t, preemptive)
    if latest.value is not None:
        preemptive.because(
            f"breakthrough DNAemia ({shown} on {latest.date}) below the pre-emptive threshold"
        )
    preemptive.because(
        f"continue prophylaxis and repeat the viral load in {int(interval.value)} days",
        (interval, "weekly viral load"),
    )
    _repeat_viral_load(
        result.schedule, on, interval, "repeat CMV viral load: breakthrough DNAemia on prophylaxis"
    )
    return Episode(Outcome.NOT_INDICATED, False)


def _repeat_viral_load(schedule: list[ScheduleItem], on: date, interval: Value, reason: str) -> None:
    """A repeat CMV viral load one surveillance interval after ``on`` (once in the schedule)."""
    item = ScheduleItem(
        ScheduleEvent.VIRAL_LOAD,
        on + timedelta(days=int(interval.value)),
        interval.citations,
        reason=reason,
    )
    if item not in schedule:
        schedule.append(item)


def _running_option(case: Case, on: date, setting: str, prophylaxis: Plan) -> Therapy | None:
    """The running prophylaxis course (indication prophylaxis or not given) of one of the drugs
    the site's ``setting`` chooses between (its spec's choices), else None. It goes on as the drug
    it is (kidney D+/R−: letermovir is labelled, PREVYMIS 2023), whether the choice is the site's
    or the reference profile's: the choice is for a course not yet started (debt22, probe11 U4)."""
    spec = setting_specs(prophylaxis.knowledge).get(setting)
    if spec is None or not spec.choices:
        return None
    course = current_course(case, on, spec.choices)
    if course is None or course.indication not in (None, Indication.PROPHYLAXIS.value):
        return None  # a course without an indication is read as prophylaxis here (probe11 U4)
    prophylaxis.cite(spec, f"{course.drug}: an option of {setting}")
    return course


def _untreated_dnaemia(case: Case, on: date, t: Tables, preemptive: Plan) -> Episode | None:
    """A detected blood load after the transplant, the latest on or before ``on``, with no CMV
    antiviral running (review11 S2: 90,000 IU/mL was given "start now" prophylaxis and "no
    routine viral-load monitoring"): the off-protocol episode (T6 at the site's threshold, else
    T8 specialist review), never prophylaxis alone. None when there is no such load or a CMV
    antiviral runs (``_dnaemia_beside``)."""
    tx = case.transplant
    assert tx is not None and tx.date is not None
    loads = [o for o in plasma_loads(case, on) if o.date >= tx.date]
    if not loads or is_below_lloq(loads[-1]):
        return None
    if current_course(case, on, cmv_antivirals(preemptive.knowledge)) is not None:
        return None
    found = _off_protocol_episode(case, on, t, preemptive)
    if found is None and loads[-1].value is None and loads[-1].result == "detected":
        return _unquantified(on, t, preemptive)
    return found


def _unquantified(on: date, t: Tables, preemptive: Plan) -> Episode:
    """fixr23a: CMV DNA detected without a quantity (the pre-emptive decision has said "repeat a
    quantitative test"): the test is scheduled today and prevention waits for its result; at or
    above the site's threshold pre-emptive therapy would replace prophylaxis (Kotton 2018)."""
    interval = t.sot.surveillance_interval_days
    preemptive.result.missing.append(
        Missing("cmv_dna", "a quantitative CMV DNA result: DNA was detected without a quantity")
    )
    item = ScheduleItem(
        ScheduleEvent.VIRAL_LOAD,
        on,
        interval.citations,
        reason="quantitative CMV viral load: DNA detected without a quantity",
    )
    if item not in preemptive.result.schedule:
        preemptive.result.schedule.append(item)
    return Episode(Outcome.INSUFFICIENT_DATA, False, unclassified=True, unquantified=True)


def _dnaemia_beside(
    case: Case, on: date, t: Tables, drug: str, prophylaxis: Plan, preemptive: Plan
) -> bool:
    """Close both prevention decisions for specialist review when a detected blood load since
    its start meets a running CMV antiviral course the breakthrough rules do not read (a
    maintenance course, or foscarnet, cidofovir or maribavir not as treatment; review11 S2:
    foscarnet maintenance at 90,000 IU/mL got valganciclovir prophylaxis and "no routine
    viral-load monitoring"); True if so. A repeat load in a week is planned; no second
    antiviral is proposed beside the course, nor in its place before the review."""
    breakthrough = (*t.sot.prophylaxis_drug.values, "ganciclovir", "letermovir")
    running = [
        c
        for c in case.therapy
        if c.drug in cmv_antivirals(prophylaxis.knowledge)
        and c.start <= on
        and (c.stop is None or c.stop >= on)
        and (c.drug not in breakthrough or c.indication not in (None, "prophylaxis", "preemptive"))
        and phase(c.indication) != "treatment"
    ]
    for course in sorted(running, key=lambda c: c.start, reverse=True):
        loads = [o for o in plasma_loads(case, on) if o.date > course.start]
        if not loads or is_below_lloq(loads[-1]):
            continue
        latest = loads[-1]
        shown = f"{latest.value} {latest.unit}" if latest.value is not None else "detected"
        what = (
            f"CMV DNAemia ({shown} on {latest.date}) while {course.drug} "
            f"({course.indication or 'no indication'}) runs since {course.start}"
        )
        interval = t.sot.surveillance_interval_days
        prophylaxis.rule("T20")
        prophylaxis.because(
            f"{what}: no {drug} prophylaxis beside it or in its place before a specialist review"
        )
        prophylaxis.done(Outcome.SPECIALIST_REVIEW)
        preemptive.rule("T8")
        preemptive.because(
            f"{what}: specialist review; repeat the viral load in {int(interval.value)} days",
            (interval, "weekly viral load"),
        )
        _repeat_viral_load(
            preemptive.result.schedule,
            on,
            interval,
            "repeat CMV viral load: DNAemia during another antiviral's course",
        )
        preemptive.done(Outcome.SPECIALIST_REVIEW)
        return True
    return False


def _start(case: Case, on: date, drug: str) -> date:
    """The start of the running prophylaxis course of ``drug``, else ``on``: a course of another
    phase (pre-emptive, induction …) is never re-dated as prophylaxis."""
    course = current_course(case, on, (drug,))
    if course is None or phase(course.indication) == "treatment":
        return on
    return course.start


def _valganciclovir(
    case: Case,
    on: date,
    t: Tables,
    row: SotStrategy,
    group: str,
    label: str,
    stop: date,
    stop_day: int,
    prophylaxis: Plan,
) -> Outcome | None:
    tx = case.transplant
    assert tx is not None and tx.date is not None
    window = t.sot.prophylaxis_start_window_days
    intolerant = (
        "valganciclovir" in case.patient.intolerances or "ganciclovir" in case.patient.intolerances
    )
    stop_rule = f"through day {stop_day} after transplant"
    if not intolerant:
        seen, asked = len(prophylaxis.result.alerts), len(prophylaxis.result.missing)
        outcome, _ = regimen(
            prophylaxis.result,
            case,
            prophylaxis.knowledge,
            on,
            "valganciclovir",
            Indication.PROPHYLAXIS,
            start=_start(case, on, "valganciclovir"),
            stop=stop,
            stop_rule=stop_rule,
            population="sot",
            regions=("us", "eu"),
        )
        if outcome is Outcome.RECOMMENDED and prophylaxis.result.findings.get(
            "dose_label_region", {}
        ).get("valganciclovir"):
            prophylaxis.because(
                f"valganciclovir prophylaxis after {tx.organ} transplant is outside the US label; "
                "dose from the EU SmPC, as the consensus uses it"
            )
        if outcome is Outcome.RECOMMENDED:
            prophylaxis.because(
                f"{tx.organ} {label}: valganciclovir prophylaxis from day {int(window.low)}–{int(window.high)} "
                f"through day {stop_day} ({stop})",
                (window, "prophylaxis start window"),
            )
            return None
        neutropenic = outcome is Outcome.EXCLUDED and any(
            a.code is AlertCode.NEUTROPENIA for a in prophylaxis.result.alerts[seen:]
        )
        if not neutropenic:
            # T4 allows a switch to letermovir only for a low ANC or intolerance: a missing input,
            # a renal exclusion or a review of valganciclovir is the decision's own outcome.
            prophylaxis.rule("T4")
            prophylaxis.cite(t.sot.letermovir_organs, "letermovir only for low ANC or intolerance")
            if outcome is Outcome.INSUFFICIENT_DATA:
                prophylaxis.because(
                    "valganciclovir prophylaxis cannot be dosed: the dosing engine needs "
                    + (", ".join(m.item for m in prophylaxis.result.missing[asked:]) or "more data")
                )
                return Outcome.INSUFFICIENT_DATA
            why = refusal(
                case,
                on,
                prophylaxis.knowledge,
                "valganciclovir",
                Indication.PROPHYLAXIS,
                regions=("us", "eu"),
            )
            prophylaxis.because(
                f"valganciclovir prophylaxis: {outcome.value} by the dosing engine ({why}); "
                "letermovir replaces it only for a low ANC or valganciclovir intolerance (T4): "
                "choose the drug with a specialist"
            )
            if outcome is Outcome.EXCLUDED and case.patient.dialysis == "hemodialysis":
                _iv_ganciclovir_on_dialysis(case, on, prophylaxis)
            return Outcome.SPECIALIST_REVIEW
        prophylaxis.because(
            "valganciclovir is not suitable (ANC below its limit; see the dosing engine's alerts)"
        )
    else:
        prophylaxis.because("valganciclovir or ganciclovir intolerance")
    if tx.organ in t.sot.letermovir_organs.values and group == "d_pos_r_neg":
        return _letermovir(case, on, t, group, prophylaxis)
    citations = prophylaxis.result.cite(t.sot.letermovir_organs, "letermovir SOT indication")
    add_alert(
        prophylaxis.result,
        AlertCode.OUTSIDE_EVIDENCE_BASE,
        Severity.WARNING,
        f"Letermovir prophylaxis after {tx.organ} transplant ({label}) is off-label and outside the trial evidence.",
        citations,
    )
    prophylaxis.because(
        "alternatives to valganciclovir (letermovir off-label, pre-emptive therapy) need specialist review"
    )
    return Outcome.SPECIALIST_REVIEW


def _letermovir(case: Case, on: date, t: Tables, group: str, prophylaxis: Plan) -> Outcome | None:
    prophylaxis.rule("T4")
    result = prophylaxis.result
    tx = case.transplant
    assert tx is not None and tx.date is not None
    if tx.organ not in t.sot.letermovir_organs.values or group != "d_pos_r_neg":
        return Outcome.SPECIALIST_REVIEW
    stop_day = int(t.sot.letermovir_stop_day.value)
    stop = tx.date + timedelta(days=stop_day)
    window = t.sot.letermovir_start_window_days
    outcome, _ = regimen(
        result,
        case,
        prophylaxis.knowledge,
        on,
        "letermovir",
        Indication.PROPHYLAXIS,
        start=_start(case, on, "letermovir"),
        stop=stop,
        stop_rule=f"through day {stop_day} after transplant",
        population="sot",
    )
    if outcome is not Outcome.RECOMMENDED:
        why = refusal(case, on, prophylaxis.knowledge, "letermovir", Indication.PROPHYLAXIS)
        prophylaxis.because(f"letermovir prophylaxis: {outcome.value} by the dosing engine; {why}")
        return (
            Outcome.INSUFFICIENT_DATA
            if outcome is Outcome.INSUFFICIENT_DATA
            else Outcome.SPECIALIST_REVIEW
        )
    prophylaxis.because(
        f"kidney D+/R−: letermovir prophylaxis from day {int(window.low)}–{int(window.high)} through day {stop_day} ({stop})",
        (window, "letermovir start window"),
        (t.sot.letermovir_stop_day, "letermovir stop day"),
    )
    citations = result.cite(t.sot.letermovir_stop_day, "letermovir kidney prophylaxis")
    add_alert(
        result,
        AlertCode.HSV_VZV_PROPHYLAXIS_NEEDED,
        Severity.WARNING,
        "Letermovir has no activity against HSV or VZV: add acyclovir or valacyclovir prophylaxis.",
        citations,
    )
    if not levels_alert_given(result):
        add_alert(
            result,
            AlertCode.DRUG_INTERACTION,
            Severity.WARNING,
            "Letermovir raises calcineurin- and mTOR-inhibitor levels: monitor trough levels.",
            citations,
        )
    return None


def _over_unclassified(
    case: Case,
    on: date,
    t: Tables,
    row: SotStrategy,
    group: str,
    label: str,
    stop: date,
    stop_day: int,
    drug: str,
    prophylaxis: Plan,
    preemptive: Plan,
    pet: Episode,
) -> None:
    """A quantified CMV DNAemia the tool cannot classify (the site's pre-emptive threshold
    ``pet_threshold_iu_ml.sot`` is not set; no guideline gives one): prophylaxis is neither
    started nor said to continue as if the blood were negative, since at or above the threshold
    pre-emptive therapy replaces it (Kotton 2018 §prevention; Razonable 2013: thresholds are
    assay- and centre-specific). The decision is ``insufficient_data`` naming the threshold; the
    dose if it starts or continues is said without a regimen (its alerts stand).

    review12 S4 (letermovir: PREVYMIS §1, prophylaxis only, its trials excluded detectable
    DNAemia) and debt23 (valganciclovir: fix11b's HSCT rule, ADR 0032, in SOT for every drug)."""
    result = prophylaxis.result
    before, said, seen = list(result.regimens), len(prophylaxis.reasons), len(result.alerts)
    if drug == "letermovir":
        outcome = _letermovir(case, on, t, group, prophylaxis)
    else:
        outcome = _valganciclovir(case, on, t, row, group, label, stop, stop_day, prophylaxis)
    chosen_drug = drug
    added = [r for r in result.regimens if r not in before]
    for chosen in added:
        result.regimens.remove(chosen)
        chosen_drug = chosen.drug
        for source in chosen.citations:  # the dose said below keeps its sources (fixr23a)
            if source not in prophylaxis.citations:
                prophylaxis.citations.append(source)
    if outcome is None and len(prophylaxis.reasons) > said:
        # only the recommendation's own line (its start window and dates) depends on the
        # threshold; the chooser's other reasons (intolerance, dialysis, the missing creatinine,
        # the label region) stand (fixr23a: the house rule on insufficient data)
        del prophylaxis.reasons[-1]
    # "continued" (debt22, a running option) is not said over it
    prophylaxis.reasons[:] = [
        r for r in prophylaxis.reasons if "one of the guideline's options: continued" not in r
    ]
    course = current_course(case, on, (chosen_drug,))
    why = (
        (
            "CMV DNA detected without a quantity: "
            if pet.unquantified
            else "quantified CMV DNAemia and the site's pre-emptive threshold "
            "pet_threshold_iu_ml.sot is not set: "
        )
        + f"{chosen_drug} prophylaxis cannot be decided ("
        + ("it is not a treatment; " if chosen_drug == "letermovir" else "")
        + ("the quantitative result is needed: " if pet.unquantified else "")
        + "at or above the threshold pre-emptive therapy replaces it)"
    )
    alerted = any(a.severity is not Severity.INFO for a in result.alerts[seen:])
    if course is not None and added:
        chosen = added[0]
        why += (
            f"; {chosen_drug} running since {course.start}: if it continues, "
            + _dose_words(chosen)
            + (" (see the alerts)" if alerted else "")
        )
    elif course is not None:
        why += (
            f"; {chosen_drug} running since {course.start}: no dose "
            f"({(outcome or Outcome.RECOMMENDED).value}, see the alerts)"
        )
    elif added:
        chosen = added[0]
        why += (
            f"; below the threshold, {chosen_drug} prophylaxis would be "
            f"{_dose_words(chosen)} through day {stop_day} ({stop})"
        )
    facts: list[tuple[Cited, str]] = []
    if chosen_drug == "letermovir":
        facts.append((t.treatment.not_treatment_drugs, "letermovir is not a treatment drug"))
    prophylaxis.because(why, *facts)
    if not pet.unquantified:
        prophylaxis.cite_setting("pet_threshold_iu_ml.sot")
    other = other_prevention(case, on, prophylaxis.knowledge, chosen_drug)
    if other is not None:  # review11 S2: a switch, never beside it, threshold or not
        in_place_reason(prophylaxis, other, chosen_drug)
    prophylaxis.done(Outcome.INSUFFICIENT_DATA)
    ends = [r.stop for r in added if r.stop]
    if outcome is None and group == "d_pos_r_neg" and ends:
        _late_cmv_risk(result, max(ends), row.citations)
    preemptive.done(pet.outcome)


def _dose_words(chosen: Regimen) -> str:
    """A regimen's dose as a reason says it: ``900 mg every 24 h`` (a per-kg dose with its
    mg/kg; a schedule in words when there is no fixed interval)."""
    per_kg = f" ({chosen.dose_mg_per_kg:g} mg/kg)" if chosen.dose_mg_per_kg else ""
    dose = f"{chosen.dose_mg:g} mg{per_kg}" if chosen.dose_mg is not None else "a dose"
    every = f"every {chosen.every_h:g} h" if chosen.every_h is not None else chosen.schedule or ""
    return f"{dose} {every}".strip()


def _whose(plan: Plan, setting: str) -> str:
    """``site's`` or ``reference profile's``: who chose a setting's value, as the output says it."""
    return "site's" if plan.settings.origin_of(setting) == SITE else "reference profile's"


def _after_prophylaxis(
    case: Case,
    on: date,
    t: Tables,
    row: SotStrategy,
    group: str,
    label: str,
    stop: date,
    stop_day: int,
    prophylaxis: Plan,
    preemptive: Plan,
) -> None:
    result = prophylaxis.result
    tx = case.transplant
    assert tx is not None
    prophylaxis.because(
        f"{tx.organ} {label}: the prophylaxis period ended on {stop} (day {stop_day})"
    )
    if group == "d_pos_r_neg":
        add_alert(
            result,
            AlertCode.LATE_CMV_RISK,
            Severity.WARNING,
            "D+/R− after prophylaxis: risk of late-onset CMV; teach symptoms, test on any suggestive illness.",
            row.citations,
        )
    depleting = [
        d for d in case.co_medications_on(on) if d in t.sot.lymphocyte_depleting_agents.values
    ]
    if group == "r_pos" and depleting:
        prophylaxis.rule("T7")
        prophylaxis.because(
            f"lymphocyte-depleting therapy ({', '.join(depleting)}) after prophylaxis: restart prevention "
            "(prophylaxis or pre-emptive therapy) per specialist",
            (t.sot.lymphocyte_depleting_agents, "lymphocyte-depleting agents"),
        )
        add_alert(
            result,
            AlertCode.LATE_CMV_RISK,
            Severity.WARNING,
            f"R+ recipient given {', '.join(depleting)}: CMV risk rises again.",
            t.sot.lymphocyte_depleting_agents.citations,
        )
        prophylaxis.done(Outcome.SPECIALIST_REVIEW)
    else:
        prophylaxis.done(Outcome.NOT_INDICATED)
    outcome = _off_protocol_episode(case, on, t, preemptive)
    if outcome is None:
        preemptive.because("no DNAemia at or above the site's threshold after prophylaxis")
    preemptive.done(outcome.outcome if outcome else Outcome.NOT_INDICATED)


def _off_protocol_episode(case: Case, on: date, t: Tables, preemptive: Plan) -> Episode | None:
    """DNAemia outside a pre-emptive protocol (during or after prophylaxis): T6 if a threshold is
    set, else specialist review (T8)."""
    return episode(
        case,
        on,
        t,
        preemptive,
        threshold_setting="pet_threshold_iu_ml.sot",
        population="sot",
        choose=lambda: _pet_drug(case),
        on_protocol=False,
    )


def _pet_drug(case: Case) -> tuple[str, str | None]:
    """Valganciclovir, or IV ganciclovir when the patient cannot take oral drugs (T6)."""
    return (
        ("ganciclovir", "iv") if case.patient.can_take_oral is False else ("valganciclovir", None)
    )


def _preemptive_strategy(
    case: Case,
    on: date,
    t: Tables,
    row: SotStrategy,
    label: str,
    prophylaxis: Plan,
    preemptive: Plan,
) -> None:
    tx = case.transplant
    assert tx is not None and tx.date is not None
    prophylaxis.rule("T5")
    preemptive.rule("T5")
    prophylaxis.because(
        f"{tx.organ} {label}: the site's strategy is pre-emptive therapy, not prophylaxis"
    )
    prophylaxis.done(Outcome.NOT_INDICATED)
    if not row.preemptive_allowed:
        preemptive.because(
            f"pre-emptive therapy alone is not recommended after {tx.organ} transplant"
        )
        preemptive.done(Outcome.EXCLUDED)
        return
    outcome = episode(
        case,
        on,
        t,
        preemptive,
        threshold_setting="pet_threshold_iu_ml.sot",
        population="sot",
        choose=lambda: _pet_drug(case),
    )
    if outcome is not None:
        preemptive.done(outcome.outcome)
        return
    days = preemptive.setting("pet_surveillance_days_sot")
    if days is None:
        preemptive.because(
            "weekly viral-load surveillance; its length pet_surveillance_days_sot is not set"
        )
        preemptive.done(Outcome.INSUFFICIENT_DATA)
        return
    threshold = preemptive.setting("pet_threshold_iu_ml.sot")
    interval = t.sot.surveillance_interval_days
    preemptive.cite(interval, "weekly viral-load surveillance")
    preemptive.cite_setting("pet_surveillance_days_sot")
    end = tx.date + timedelta(days=int(days))
    if on > end:
        preemptive.because(f"the surveillance period ended on {end} (day {days})")
        preemptive.done(Outcome.NOT_INDICATED)
        return
    # Only reached without a load at or above a threshold (``episode`` decides a measured one):
    # the weekly surveillance is certain even while the threshold is the site's to set.
    start_at = (
        f"at ≥ {threshold} IU/mL (site threshold)"
        if threshold is not None
        else "at the site's threshold pet_threshold_iu_ml.sot, which is not set (no guideline gives one)"
    )
    preemptive.because(
        f"weekly blood CMV viral load through day {days} ({end}); start pre-emptive valganciclovir "
        + start_at
    )
    surveillance(
        preemptive,
        tx.date,
        end,
        on,
        int(interval.value),
        "pre-emptive surveillance: weekly CMV viral load",
    )
    preemptive.done(Outcome.RECOMMENDED)


def _iv_ganciclovir_on_dialysis(case: Case, on: date, plan: Plan) -> None:
    """probe11 U2: valganciclovir is excluded on haemodialysis and its label names IV ganciclovir
    instead; the IV ganciclovir dose the dosing engine gives (CYTOVENE label, haemodialysis row) is
    said beside the specialist review, as the option, never as a regimen."""
    dose = recommend_dose(
        dose_patient_from_case(case, on), "ganciclovir", Indication.PROPHYLAXIS, plan.knowledge
    )
    if dose.regimen is None:
        return
    for source in dose.citations:
        if source not in plan.citations:
            plan.citations.append(source)
    phases = []
    phase: DoseRegimen | None = dose.regimen
    while phase is not None:
        per_kg = f" ({phase.dose_mg_per_kg.normalize():f} mg/kg)" if phase.dose_mg_per_kg else ""
        phases.append(f"{phase.dose_mg.normalize():f} mg{per_kg} {phase.schedule}")
        phase = phase.then
    plan.because(
        "on haemodialysis the valganciclovir label names IV ganciclovir: if chosen, "
        + " then ".join(phases)
        + " (dosing engine)"
    )


def _late_cmv_risk(result: PathwayResult, end: date, citations: tuple[str, ...]) -> None:
    """D+/R−: the risk of late-onset CMV begins when prophylaxis ends (said with the prophylaxis,
    whether it is recommended or waits for a threshold)."""
    add_alert(
        result,
        AlertCode.LATE_CMV_RISK,
        Severity.INFO,
        f"D+/R−: when prophylaxis ends ({end}) the risk of late-onset CMV begins; teach "
        "symptoms, test on any suggestive illness.",
        citations,
    )
