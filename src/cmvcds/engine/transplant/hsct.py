"""CMV prevention after HSCT (transplant-hiv.md §2, rules T11–T15).

R+ allogeneic adults: letermovir from day 0–28 through day 100, to day 200 when the site counts a
risk factor of the patient as "at risk of late CMV". R−: no letermovir; weekly PCR surveillance.
DNAemia at or above the site's threshold: pre-emptive therapy (foscarnet when neutrophils are
below the site's level) and letermovir stops.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from cmvcds.domain.case import Case
from cmvcds.domain.results import Missing, ScheduleItem
from cmvcds.domain.vocabulary import AlertCode, Indication, Outcome, ScheduleEvent, Severity
from cmvcds.engine.monitoring import refractory_calls
from cmvcds.engine.transplant.common import (
    Plan,
    Tables,
    Therapy,
    add_alert,
    beside_unclear,
    current_course,
    in_place_reason,
    levels_alert_given,
    other_prevention,
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

__all__ = ["hsct_prevention", "marrow_choice"]


def marrow_choice(case: Case, on: date, plan: Plan, t: Tables) -> tuple[str, str | None] | None:
    """Foscarnet when the neutrophil count is below the site's level, else (val)ganciclovir (T15, T16).

    None when a neutrophil count exists but the site's level is not set.
    """
    anc = case.latest("anc")
    if anc is not None and anc.date <= on and anc.value is not None:
        level = plan.setting("hsct_pet_foscarnet_anc_per_ul")
        if level is None:
            return None
        plan.cite_setting("hsct_pet_foscarnet_anc_per_ul")
        if anc.value < Decimal(level):
            plan.because(
                f"neutrophils {anc.value}/µL on {anc.date} are below {level}/µL "
                "(hsct_pet_foscarnet_anc_per_ul): foscarnet",
                (t.treatment.marrow_sparing, "foscarnet with marrow suppression"),
            )
            return "foscarnet", "iv"
    else:
        plan.because("no neutrophil count: check it before (val)ganciclovir")
    gut = case.presentation is not None and "gastrointestinal" in case.presentation.organs
    if case.patient.can_take_oral is False or gut:
        return "ganciclovir", "iv"
    return "valganciclovir", None


def hsct_prevention(case: Case, on: date, t: Tables, prophylaxis: Plan, preemptive: Plan) -> None:
    tx = case.transplant
    assert tx is not None
    prophylaxis.rule("T11")
    missing = []
    if tx.allogeneic is None:
        missing.append(
            Missing(
                "transplant.allogeneic", "allogeneic and autologous HSCT are prevented differently"
            )
        )
    if tx.recipient_cmv_igg is None:
        missing.append(
            Missing(
                "transplant.recipient_cmv_igg",
                "letermovir prophylaxis is for CMV-seropositive recipients",
            )
        )
    if tx.date is None:
        missing.append(
            Missing("transplant.date", "prophylaxis and surveillance are dated from the HSCT")
        )
    age = case.patient.age_on(on)
    if age is None:
        missing.append(Missing("patient.age_years", "the HSCT rules apply to adults"))
    if refuse_missing(
        (prophylaxis, preemptive),
        missing,
        (t.hsct.letermovir_stop_day, "letermovir prophylaxis for allogeneic R+ HSCT"),
        (t.hsct.autologous_exceptions, "no routine prevention after autologous HSCT"),
        (t.hsct.surveillance_stop_day, "pre-emptive surveillance after allogeneic HSCT"),
    ):
        return
    assert tx.date is not None and age is not None
    h = t.hsct
    if not tx.allogeneic:
        exceptions = [r for r in tx.hsct_risk if r in h.autologous_exceptions.values]
        outcome = Outcome.SPECIALIST_REVIEW if exceptions else Outcome.NOT_INDICATED
        why = (
            f"autologous HSCT with {', '.join(exceptions)}: prevention per specialist"
            if exceptions
            else "autologous HSCT: no routine CMV prophylaxis or surveillance"
        )
        for plan in (prophylaxis, preemptive):
            plan.because(why, (h.autologous_exceptions, "autologous HSCT exceptions"))
            plan.done(outcome)
        return
    if refuse_minor((prophylaxis, preemptive), age, h.adult_age_years, "HSCT prevention"):
        return
    if tx.recipient_cmv_igg == "positive":
        _recipient_positive(case, on, t, prophylaxis, preemptive)
    else:
        _recipient_negative(case, on, t, prophylaxis, preemptive)


def _pet(case: Case, on: date, t: Tables, preemptive: Plan) -> Episode | None:
    return episode(
        case,
        on,
        t,
        preemptive,
        threshold_setting="pet_threshold_iu_ml.hsct",
        population="hsct",
        choose=lambda: marrow_choice(case, on, preemptive, t),
    )


def _recipient_positive(
    case: Case, on: date, t: Tables, prophylaxis: Plan, preemptive: Plan
) -> None:
    result = prophylaxis.result
    tx = case.transplant
    assert tx is not None and tx.date is not None
    h = t.hsct
    day = (on - tx.date).days
    prophylaxis.rule("T12")
    preemptive.rule("T15")
    pet = _pet(case, on, t, preemptive)
    if pet is not None and pet.active:
        prophylaxis.because(
            "clinically significant CMV infection: stop letermovir while pre-emptive therapy runs",
            (h.letermovir_stop_day, "letermovir prophylaxis"),
        )
        prophylaxis.done(Outcome.NOT_INDICATED)
        preemptive.done(pet.outcome)
        return
    treated = treatment_course(case, on, prophylaxis.knowledge)
    calls = [
        c
        for c in refractory_calls(case, prophylaxis.knowledge, on)
        if c.evaluable and c.code is not None
    ]
    if treated is not None or calls:
        # probe9 #3: letermovir is not continued beside treatment of CMV infection (as beside
        # pre-emptive therapy above); prevention is decided again when treatment stops.
        what = (
            f"{treated.drug} {treated.indication or 'treatment-dose (no indication given)'} therapy "
            f"running since {treated.start}"
            if treated is not None
            else f"{calls[0].code.value.replace('-', ' ') if calls[0].code else ''}, {calls[0].series}"
        )
        prophylaxis.because(
            f"CMV infection under treatment ({what}): stop letermovir while treatment runs; "
            "prevention is decided again when treatment stops",
            (h.letermovir_stop_day, "letermovir prophylaxis"),
        )
        prophylaxis.done(Outcome.NOT_INDICATED)
        if pet is not None:
            preemptive.done(pet.outcome)
        else:
            preemptive.because(
                f"CMV infection under treatment ({what}): managed under antiviral-treatment, not "
                "as a separate pre-emptive course",
                (t.treatment.treatment_drugs, "treatment of CMV infection replaces prevention"),
            )
            preemptive.done(Outcome.NOT_INDICATED)
        return
    if beside_unclear(case, on, t, "letermovir", prophylaxis, None):
        # review11 S2: no letermovir started beside a course that may be treatment; the
        # pre-emptive surveillance goes on
        if pet is not None:
            preemptive.done(pet.outcome)
        else:
            _weekly_pcr(
                case,
                on,
                t,
                preemptive,
                tx.date + timedelta(days=int(h.letermovir_stop_day.value)),
                "weekly CMV PCR surveillance",
                letermovir=False,
            )
        return
    unclear = unclear_course(case, on, prophylaxis.knowledge)
    if unclear is not None:
        unclear_reason(prophylaxis, unclear)  # review9b: letermovir kept, the indication asked
    stop_day = int(h.letermovir_stop_day.value)
    prophylaxis.cite(h.letermovir_stop_day, "letermovir through day 100")
    extended = _extension(case, on, t, prophylaxis)
    if extended:
        stop_day = int(h.letermovir_extended_stop_day.value)
    stop = tx.date + timedelta(days=stop_day)
    course = current_course(case, on, ("letermovir",))
    window = h.letermovir_start_window_days
    if on > stop:
        prophylaxis.because(f"letermovir prophylaxis period ended on {stop} (day {stop_day})")
        prophylaxis.done(Outcome.NOT_INDICATED)
        _surveillance_after(case, on, t, preemptive, pet)
        return
    if pet is not None and pet.unclassified:
        _unclassified(case, on, t, prophylaxis, preemptive, pet, course, stop, stop_day)
        return
    given = False  # letermovir running or recommended
    if course is None and day > window.high:
        prophylaxis.because(
            f"day {day}: later than the letermovir start window (day {int(window.low)}–{int(window.high)})",
            (window, "letermovir start window"),
        )
        other = other_prevention(case, on, prophylaxis.knowledge, "letermovir")
        if other is not None:
            in_place_reason(prophylaxis, other, "letermovir")  # debt23: the running course said
        prophylaxis.done(Outcome.SPECIALIST_REVIEW)
    else:
        outcome, _ = regimen(
            result,
            case,
            prophylaxis.knowledge,
            on,
            "letermovir",
            Indication.PROPHYLAXIS,
            start=course.start if course else on,
            stop=stop,
            stop_rule=f"through day {stop_day} after HSCT"
            + (
                ""
                if extended
                else f"; review at day {int(h.letermovir_extension_review_day.value)} for extension to day "
                f"{int(h.letermovir_extended_stop_day.value)} if at risk of late CMV"
            ),
            population="hsct",
            schedule=False,  # the weekly PCR is the pre-emptive surveillance below
        )
        if outcome is Outcome.RECOMMENDED:
            prophylaxis.because(
                f"R+ allogeneic HSCT: letermovir from day {int(window.low)}–{int(window.high)} through day {stop_day} ({stop})",
                (window, "letermovir start window"),
            )
            other = other_prevention(case, on, prophylaxis.knowledge, "letermovir")
            if other is not None:
                in_place_reason(prophylaxis, other, "letermovir")  # review11 S2
            both = other_prevention(case, on, prophylaxis.knowledge, "letermovir", beside=True)
            if both is not None:
                _both_running(prophylaxis, both, t)
            citations = result.cite(h.letermovir_interacting_drugs, "letermovir interactions")
            interacting = [
                d for d in case.co_medications_on(on) if d in h.letermovir_interacting_drugs.values
            ]
            if not levels_alert_given(result):
                add_alert(
                    result,
                    AlertCode.DRUG_INTERACTION,
                    Severity.WARNING,
                    "Letermovir raises cyclosporine, tacrolimus and sirolimus levels (monitor trough levels)"
                    + (f"; on {', '.join(interacting)}" if interacting else "")
                    + ".",
                    citations,
                )
            if "cyclosporine" in case.co_medications_on(on):
                add_alert(
                    result,
                    AlertCode.DRUG_INTERACTION,
                    Severity.WARNING,
                    "Letermovir with cyclosporine: simvastatin and pitavastatin are contraindicated.",
                    citations,
                )
            add_alert(
                result,
                AlertCode.HSV_VZV_PROPHYLAXIS_NEEDED,
                Severity.WARNING,
                "Letermovir has no activity against HSV or VZV: keep acyclovir or valacyclovir prophylaxis.",
                result.cite(h.letermovir_stop_day, "letermovir prophylaxis"),
            )
            prophylaxis.done(Outcome.RECOMMENDED)
            given = True
        else:
            why = refusal(case, on, prophylaxis.knowledge, "letermovir", Indication.PROPHYLAXIS)
            prophylaxis.because(
                f"letermovir is not recommended by the dosing engine ({outcome.value}); {why}"
            )
            prophylaxis.done(Outcome.SPECIALIST_REVIEW)
    if pet is not None:
        preemptive.done(pet.outcome)
        return
    _weekly_pcr(
        case,
        on,
        t,
        preemptive,
        tx.date + timedelta(days=stop_day),
        # probe9 #11: "during letermovir" only when letermovir is given or recommended
        "weekly CMV PCR surveillance"
        if not given
        else "weekly CMV PCR continues during letermovir",
        letermovir=given,
    )


def _both_running(prophylaxis: Plan, other: Therapy, t: Tables) -> None:
    """debt23 (ADR 0032-fixr11a: no second CMV antiviral beside a running course): letermovir
    and another CMV antiviral's prevention course (valganciclovir or ganciclovir prophylaxis)
    both running. Letermovir is the labelled prophylaxis of R+ allogeneic HSCT (PREVYMIS §1;
    Marty 2017) and the one this decision recommends: the other course stops, unless a
    specialist records a reason for both; both are never continued without a word."""
    prophylaxis.because(
        f"{other.drug} ({other.indication or 'prophylaxis dose, no indication'}) running since "
        f"{other.start} beside letermovir: one CMV prophylaxis, not both; stop {other.drug} "
        "(letermovir continues) unless a specialist records a reason for both",
        (t.hsct.letermovir_stop_day, "letermovir prophylaxis"),
    )
    # fixr23a: said as an alert too (a course without an indication raised none of its own)
    add_alert(
        prophylaxis.result,
        AlertCode.DRUG_INTERACTION,
        Severity.WARNING,
        f"Two CMV antivirals running: {other.drug} since {other.start} beside letermovir; one "
        f"prophylaxis, not both: stop {other.drug} unless a specialist records a reason for both.",
        t.hsct.letermovir_stop_day.citations,
    )


def _unclassified(
    case: Case,
    on: date,
    t: Tables,
    prophylaxis: Plan,
    preemptive: Plan,
    pet: Episode,
    course: Therapy | None,
    stop: date,
    stop_day: int,
) -> None:
    """probe11 S3: letermovir is prophylaxis, not treatment (its trial excluded patients with
    detectable DNAemia): over a quantified DNAemia the tool cannot classify (the site's
    threshold is not set) it is neither started nor said to continue; the decision is
    ``insufficient_data`` naming the threshold. A running course is still checked (its dose
    alerts stand: the dose if it continues is said, without a regimen)."""
    h = t.hsct
    why = (
        "quantified CMV DNAemia and the site's pre-emptive threshold pet_threshold_iu_ml.hsct "
        "is not set: letermovir prophylaxis cannot be decided (it is not a treatment; at or "
        "above the threshold pre-emptive therapy replaces it)"
    )
    if course is not None:
        outcome, chosen = regimen(
            prophylaxis.result,
            case,
            prophylaxis.knowledge,
            on,
            "letermovir",
            Indication.PROPHYLAXIS,
            start=course.start,
            stop=stop,
            stop_rule=f"through day {stop_day} after HSCT",
            population="hsct",
            schedule=False,
        )
        if chosen is not None:
            prophylaxis.result.regimens.remove(chosen)
            why += (
                f"; letermovir running since {course.start}: if it continues, "
                f"{chosen.dose_mg:g} mg every {chosen.every_h:g} h (see the alerts)"
            )
        else:
            why += f"; letermovir running since {course.start}: no dose ({outcome.value}, see the alerts)"
    prophylaxis.because(
        why,
        (h.letermovir_stop_day, "letermovir prophylaxis"),
        (t.treatment.not_treatment_drugs, "letermovir is not a treatment drug"),
    )
    prophylaxis.done(Outcome.INSUFFICIENT_DATA)
    preemptive.done(pet.outcome)


def _extension(case: Case, on: date, t: Tables, plan: Plan) -> bool:
    """T13: is letermovir continued to day 200 (a patient risk the site counts as at risk)?"""
    h = t.hsct
    tx = case.transplant
    assert tx is not None and tx.date is not None
    risks = [r for r in tx.hsct_risk if r in h.letermovir_extension_risks.values]
    if not risks:
        return False
    counted = [r for r in risks if plan.setting(f"hsct_letermovir_extension.{r}") is True]
    if not counted:
        return False
    plan.rule("T13")
    plan.because(
        f"at risk of late CMV ({', '.join(counted)}): continue letermovir through day "
        f"{int(h.letermovir_extended_stop_day.value)}",
        (h.letermovir_extended_stop_day, "letermovir extension to day 200"),
        (h.letermovir_extension_risks, "risks of late CMV"),
    )
    add_alert(
        plan.result,
        AlertCode.LATE_CMV_RISK,
        Severity.WARNING,
        f"At risk of late CMV after HSCT ({', '.join(counted)}).",
        h.letermovir_extended_stop_day.citations,
    )
    return True


def _weekly_pcr(
    case: Case, on: date, t: Tables, preemptive: Plan, end: date, why: str, letermovir: bool = False
) -> None:
    """Weekly PCR through ``end``; ``letermovir``: the patient is on (or is recommended) letermovir."""
    h = t.hsct
    tx = case.transplant
    assert tx is not None and tx.date is not None
    threshold = preemptive.setting("pet_threshold_iu_ml.hsct")
    preemptive.cite(h.surveillance_interval_days, "weekly PCR surveillance")
    if threshold is None:
        # Only reached without a quantified load (``episode`` decides a measured one): the
        # surveillance is certain; only the level that will start therapy is the site's to set.
        preemptive.because(
            f"{why} through {end}; pre-emptive therapy starts at the site's threshold "
            "pet_threshold_iu_ml.hsct, which is not set (no guideline gives one)"
        )
    else:
        preemptive.because(
            f"{why} through {end}; pre-emptive therapy at ≥ {threshold} IU/mL (site threshold)"
        )
    loads = plasma_loads(case, on)
    if loads and (loads[-1].value is not None or loads[-1].result == "detected"):
        repeat = h.abortive_dnaemia_repeat_days
        abortive = "may be abortive under letermovir; " if letermovir else ""
        preemptive.because(
            f"DNAemia below the threshold on {loads[-1].date}: {abortive}repeat within "
            f"{int(repeat.value)} days",
            (repeat, "repeat PCR for low-level DNAemia"),
        )
        item = ScheduleItem(
            ScheduleEvent.VIRAL_LOAD,
            on + timedelta(days=int(repeat.value)),
            repeat.citations,
            reason="repeat CMV PCR: low-level DNAemia below the pre-emptive threshold",
        )
        preemptive.result.schedule.append(item)
    surveillance(
        preemptive,
        tx.date,
        end,
        on,
        int(h.surveillance_interval_days.value),
        "weekly CMV PCR surveillance",
    )
    preemptive.done(Outcome.RECOMMENDED)


def _surveillance_after(
    case: Case, on: date, t: Tables, preemptive: Plan, pet: Episode | None
) -> None:
    tx = case.transplant
    assert tx is not None and tx.date is not None
    if pet is not None:
        preemptive.done(pet.outcome)
        return
    end = tx.date + timedelta(days=int(t.hsct.surveillance_stop_day.value))
    preemptive.cite(t.hsct.surveillance_stop_day, "PCR surveillance to day 100")
    if on > end:
        preemptive.because(
            f"routine PCR surveillance ended on {end}; test again with GVHD, steroids or symptoms"
        )
        if "gvhd_steroids" in tx.hsct_risk:
            add_alert(
                preemptive.result,
                AlertCode.LATE_CMV_RISK,
                Severity.WARNING,
                "GVHD on steroids after the surveillance period: risk of late CMV.",
                t.hsct.surveillance_stop_day.citations,
            )
        preemptive.done(Outcome.NOT_INDICATED)
        return
    _weekly_pcr(case, on, t, preemptive, end, "weekly CMV PCR surveillance")


def _recipient_negative(
    case: Case, on: date, t: Tables, prophylaxis: Plan, preemptive: Plan
) -> None:
    tx = case.transplant
    assert tx is not None and tx.date is not None
    h = t.hsct
    prophylaxis.rule("T14")
    preemptive.rule("T14")
    prophylaxis.because(
        "R− recipient: letermovir is licensed and tested for R+ recipients only",
        (h.adult_age_years, "letermovir R+ indication"),
    )
    prophylaxis.done(Outcome.NOT_INDICATED)
    if tx.donor_cmv_igg == "negative":
        add_alert(
            prophylaxis.result,
            AlertCode.CMV_SAFE_BLOOD_PRODUCTS,
            Severity.INFO,
            "D−/R− HSCT: use CMV-safe (leukoreduced or CMV-seronegative) blood products.",
            h.surveillance_stop_day.citations,
        )
    pet = _pet(case, on, t, preemptive)
    _surveillance_after(case, on, t, preemptive, pet)
