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
not yet started).

A case with no therapy and no viral load gets an empty result.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from cmvcds.domain.case import Case, Observation, TherapyCourse
from cmvcds.domain.results import Alert, Decision, Missing, PathwayResult, ScheduleItem
from cmvcds.domain.settings import SiteSettings, use_setting
from cmvcds.domain.vocabulary import (
    AlertCode,
    DecisionId,
    Indication,
    Outcome,
    ScheduleEvent,
    Severity,
)
from cmvcds.engine.dosing import (
    DosePatient,
    DoseResult,
    PrescribedDose,
    check_dose,
    dose_patient_from_case,
    recommend_dose,
)
from cmvcds.engine.kinetics import (
    Marker,
    Point,
    Series,
    TherapyBar,
    auc_trapezoid,
    chart_data,
    confirmed_rise,
    viral_load_series,
)
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import DrugLabel
from cmvcds.knowledge.schemas.monitoring import (
    BloodCountLimit,
    EvidenceDurations,
    KineticsRules,
    MonitoringSchedules,
    ScheduleRule,
    TdmRules,
    ToxicityLimits,
)
from cmvcds.knowledge.schemas.transplant import RegimenMonitoring, TreatmentRules

__all__ = [
    "Course",
    "Episode",
    "RefractoryCall",
    "add_months",
    "episodes",
    "evaluate",
    "plan_schedule",
    "planned_dates",
    "refractory_calls",
    "therapy_courses",
    "underdosed_drugs",
]

_MEASURE_CODE = {
    "anc_per_ul": "anc",
    "platelets_per_ul": "platelets",
    "hemoglobin_g_dl": "hemoglobin",
}
_CODE_ALERT = {
    "anc": AlertCode.NEUTROPENIA,
    "platelets": AlertCode.THROMBOCYTOPENIA,
    "hemoglobin": AlertCode.ANEMIA,
}
_BLOOD = ("plasma", "whole_blood")
#: The dosing interval an AUC0-12 covers (hours).
_DOSE_INTERVAL_H = Decimal(12)


# ---------------------------------------------------------------------------------------------
# Courses, episodes and calendar arithmetic


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (clamped to the month's last day)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Course:
    """One drug given continuously; later entries of the same drug continue it with a new dose."""

    drug: str
    entries: tuple[TherapyCourse, ...]

    @property
    def start(self) -> date:
        return self.entries[0].start

    @property
    def stop(self) -> date | None:
        return self.entries[-1].stop

    def current(self, on: date) -> TherapyCourse:
        """The entry in force on ``on`` (the latest started; the first if none has started)."""
        started = [e for e in self.entries if e.start <= on]
        return started[-1] if started else self.entries[0]

    def active_on(self, on: date) -> bool:
        return self.start <= on and (self.stop is None or self.stop >= on)

    def end_by(self, on: date) -> date:
        """The last day given by ``on`` (the stop date, or ``on`` for an ongoing course)."""
        return on if self.stop is None or self.stop > on else self.stop


def therapy_courses(therapy: Iterable[TherapyCourse]) -> tuple[Course, ...]:
    """Group therapy entries into courses: same drug, each entry starting by the day after the last stop."""
    by_drug: dict[str, list[TherapyCourse]] = {}
    for entry in therapy:
        by_drug.setdefault(entry.drug, []).append(entry)
    courses: list[Course] = []
    for drug, entries in by_drug.items():
        entries.sort(key=lambda e: (e.start, e.stop or date.max))
        chain = [entries[0]]
        for entry in entries[1:]:
            last_stop = chain[-1].stop
            if last_stop is not None and entry.start > last_stop + timedelta(days=1):
                courses.append(Course(drug, tuple(chain)))
                chain = []
            chain.append(entry)
        courses.append(Course(drug, tuple(chain)))
    return tuple(sorted(courses, key=lambda c: (c.start, c.drug)))


@dataclass(frozen=True)
class Episode:
    """Days on any of a set of drugs, overlapping or adjacent courses merged (``end`` inclusive)."""

    start: date
    end: date
    drugs: tuple[str, ...]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def episodes(courses: Iterable[Course], drugs: Iterable[str], on: date) -> tuple[Episode, ...]:
    """The episodes of therapy with ``drugs`` up to ``on`` (courses starting later are ignored)."""
    wanted = set(drugs)
    spans = sorted(
        (c.start, c.end_by(on), c.drug) for c in courses if c.drug in wanted and c.start <= on
    )
    merged: list[Episode] = []
    for start, end, drug in spans:
        if merged and start <= merged[-1].end + timedelta(days=1):
            last = merged[-1]
            names = last.drugs if drug in last.drugs else (*last.drugs, drug)
            merged[-1] = Episode(last.start, max(last.end, end), names)
        else:
            merged.append(Episode(start, end, (drug,)))
    return tuple(merged)


def _episode_of(day: date, spans: Sequence[Episode]) -> Episode | None:
    for episode in spans:
        if episode.start <= day <= episode.end:
            return episode
    return None


# ---------------------------------------------------------------------------------------------
# The surveillance calendar


def planned_dates(rule: ScheduleRule, start: date, end: date) -> tuple[date, ...]:
    """Every date ``rule`` plans for a course from ``start`` (day 0) to ``end`` (inclusive)."""
    days: set[date] = {start + timedelta(weeks=w) for w in rule.at_weeks}
    if rule.monthly_from:
        month = rule.monthly_from
        while add_months(start, month) <= end:
            days.add(add_months(start, month))
            month += 1
    return tuple(sorted(d for d in days if start < d <= end))


def plan_schedule(
    result: PathwayResult,
    knowledge: Knowledge,
    context: str,
    drug: str,
    start: date,
    end: date,
    *,
    since: date | None = None,
) -> None:
    """Add the surveillance calendar of a course of ``drug`` from ``start`` to ``end`` to ``result``.

    Dates before ``since`` (the assessment date of a running course) are past, not plans: left out.
    """
    table = knowledge.table("monitoring_schedules", MonitoringSchedules)
    for rule in table.rules:
        if not rule.applies(context, drug):
            continue
        dates = [d for d in planned_dates(rule, start, end) if since is None or d >= since]
        if not dates:
            continue
        cited = result.cite(rule, f"monitoring schedule {rule.id}")
        event = ScheduleEvent(rule.event)
        for day in dates:
            item = ScheduleItem(event, day, cited, reason=f"{drug}: {rule.reason}")
            if item not in result.schedule:
                result.schedule.append(item)


def _planned_end(knowledge: Knowledge, context: str, course: Course, on: date) -> date:
    """The stop date; else the end of the evidence (while it is ahead); else ``on`` + the horizon."""
    if course.stop is not None:
        return course.stop
    for row in knowledge.table("monitoring_evidence", EvidenceDurations).durations:
        if row.applies(context, course.drug):
            limit = _evidence_limit(row.months, row.days, course.start)
            if limit >= on or row.fixed_course:
                return limit
    return on + timedelta(days=_horizon_days(knowledge))


def _horizon_days(knowledge: Knowledge) -> int:
    return int(
        knowledge.table("regimen_monitoring", RegimenMonitoring).open_course_horizon_days.value
    )


def _schedule_course(
    result: PathwayResult, knowledge: Knowledge, case: Case, course: Course, on: date
) -> None:
    """The calendar of a course in therapy: this pack's rules (infants), else the immune-status table.

    Adults (transplant, HIV, others) follow ``transplant/monitoring.yaml`` through the function
    the immune-status pathways use, so the same course gets the same dates whichever plans it.
    """
    context = case.context.value
    table = knowledge.table("monitoring_schedules", MonitoringSchedules)
    if any(rule.applies(context, course.drug) for rule in table.rules):
        plan_schedule(
            result,
            knowledge,
            context,
            course.drug,
            course.start,
            _planned_end(knowledge, context, course, on),
            since=on,
        )
        return
    if context == "pregnancy" or not isinstance(
        knowledge.tables.get("regimen_monitoring"), RegimenMonitoring
    ):
        return
    from cmvcds.engine.transplant.common import phase, schedule_monitoring

    transplant = case.transplant
    population = (
        ("hsct" if transplant.organ == "hsct" else "sot")
        if transplant
        else ("hiv" if context == "hiv" else "other")
    )
    current = course.current(on)
    start = current.start
    for entry in reversed(course.entries[: course.entries.index(current)]):
        if phase(entry.indication) != phase(current.indication):
            break  # e.g. prophylaxis before a treatment dose: the new phase has its own calendar
        start = entry.start
    schedule_monitoring(
        result,
        knowledge,
        course.drug,
        current.indication or "",
        population,
        start,
        course.stop,
        on,
    )


def _evidence_limit(months: int | None, days: int | None, start: date) -> date:
    return add_months(start, months) if months is not None else start + timedelta(days=days or 0)


# ---------------------------------------------------------------------------------------------
# The pathway


def evaluate(case: Case, knowledge: Knowledge, on: date, settings: SiteSettings) -> PathwayResult:
    """Monitor every course in ``case.therapy`` and the viral-load series; empty when there are neither."""
    result = PathwayResult()
    series = viral_load_series(case.observations, until=on)
    if not case.therapy and not series:
        return result
    context = case.context.value
    courses = therapy_courses(case.therapy)
    patient = dose_patient_from_case(case, on) if courses else None
    for course in courses:
        _schedule_course(result, knowledge, case, course, on)
        if not course.active_on(on):
            continue
        if patient is not None:
            _check_dose(result, case, knowledge, course, on, patient)
        _blood_counts(result, case, knowledge, settings, course, on)
        _renal_decline(result, case, knowledge, course, on, patient)
        _evidence(result, knowledge, context, course, on)
        _tdm(result, case, knowledge, settings, context, course, on)
    markers = _kinetics(result, case, knowledge, settings, courses, series, on)
    bars = [
        TherapyBar(
            e.drug,
            e.start,
            _entry_end(c, i, on),
            c.active_on(on) and e is c.current(on),
            e.dose_mg,
            e.every_h,
        )
        for c in courses
        for i, e in enumerate(c.entries)
        if e.start <= on
    ]
    if series or bars:
        result.findings["viral_load_kinetics"] = chart_data(series, markers, bars)
    return result


def _entry_end(course: Course, index: int, on: date) -> date:
    entry = course.entries[index]
    if index + 1 < len(course.entries):
        following = course.entries[index + 1].start - timedelta(days=1)
        end = following if entry.stop is None else min(entry.stop, following)
    else:
        end = entry.stop or on
    return max(entry.start, min(end, on))


# --- dose ------------------------------------------------------------------------------------


def _indication(case: Case, entry: TherapyCourse, knowledge: Knowledge) -> Indication | None:
    """The course's indication as given; else the one the context makes unambiguous (an infant's
    course is congenital therapy; a prophylaxis-only drug such as letermovir is prophylaxis)."""
    if entry.indication is not None:
        try:
            return Indication(entry.indication)
        except ValueError:
            return None
    context = case.context.value
    if context == "congenital":
        return Indication.CONGENITAL
    treatment = knowledge.tables.get("cmv_treatment")
    if (
        context != "pregnancy"
        and isinstance(treatment, TreatmentRules)
        and entry.drug in treatment.not_treatment_drugs.values
    ):
        return Indication.PROPHYLAXIS
    return None


def _check_dose(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    course: Course,
    on: date,
    patient: DosePatient,
) -> None:
    """Compare the dose in force with the dosing engine's recommendation on today's weight and kidneys."""
    entry = course.current(on)
    indication = _indication(case, entry, knowledge)
    if indication is None:
        if case.context.value != "pregnancy":
            result.missing.append(
                Missing(
                    f"therapy:{course.drug}.indication",
                    f"the indication of the {course.drug} course is needed to check its dose",
                )
            )
        return
    for alert in _dose_alerts(entry, patient, knowledge, indication):
        if alert not in result.alerts:
            result.alerts.append(alert)


def _dose_alerts(
    entry: TherapyCourse, patient: DosePatient, knowledge: Knowledge, indication: Indication
) -> tuple[Alert, ...]:
    """The dosing engine's verdict on the dose in force (``dose-below/above-target`` …).

    Blood-count alerts of the label are left out: ``_blood_counts`` reads the same label rows
    and adds the hold/resume logic.
    """
    if f"drug_{entry.drug}" not in knowledge.tables:
        return ()
    if (entry.dose_mg is None and entry.dose_mg_per_kg is None) or entry.every_h is None:
        return ()
    order = PrescribedDose(
        drug=entry.drug,
        indication=indication,
        dose_mg=entry.dose_mg,
        dose_mg_per_kg=entry.dose_mg_per_kg,
        every_h=entry.every_h,
        route=entry.route,
    )
    try:
        verdict = check_dose(order, patient, knowledge)
    except InputError:
        return ()
    return tuple(a for a in verdict.alerts if a.code not in _CODE_ALERT.values())


def _describe(dose: DoseResult) -> str:
    regimen = dose.regimen
    if regimen is None:
        return f"dose outcome {dose.outcome.value}: {'; '.join(dose.reasons)}"
    return f"now {_plain(regimen.dose_mg)} mg {regimen.schedule} {regimen.route} ({regimen.band})"


# --- blood counts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Limit:
    code: str
    alert: AlertCode
    hold_below: Decimal
    resume_above: Decimal | None
    action: str
    citations: tuple[str, ...]


def _limits(
    result: PathwayResult,
    knowledge: Knowledge,
    settings: SiteSettings,
    context: str,
    drug: str,
    measured: set[str],
) -> list[_Limit]:
    """Site rows (hold/resume) first, then the drug label's limits, for the ``measured`` codes."""
    limits: dict[str, _Limit] = {}
    for row in knowledge.table("monitoring_toxicity", ToxicityLimits).blood_counts:
        if row.applies(context, drug) and row.code in measured:
            limits[row.code] = _site_limit(result, knowledge, settings, row)
    label = knowledge.tables.get(f"drug_{drug}")
    if isinstance(label, DrugLabel):
        for check in label.checks:
            code = _MEASURE_CODE.get(check.measure)
            if code in measured and code not in limits and check.below is not None:
                assert code is not None
                cited = result.cite(check, f"{drug} label limit {check.id}")
                limits[code] = _Limit(
                    code, _CODE_ALERT[code], check.below, None, check.message, cited
                )
    return list(limits.values())


def _site_limit(
    result: PathwayResult, knowledge: Knowledge, settings: SiteSettings, row: BloodCountLimit
) -> _Limit:
    """The row's hold/resume levels, each replaced by the site's setting when it has one."""

    def chosen(name: str | None) -> Decimal | None:
        value = (
            use_setting(result, settings, knowledge, name)
            if name and settings.get(name) is not None
            else None
        )
        return None if value is None else Decimal(value)

    hold_set, resume_set = chosen(row.hold_setting), chosen(row.resume_setting)
    hold = hold_set if hold_set is not None else row.hold_below
    resume = resume_set if resume_set is not None else row.resume_above
    site_chose_all = hold_set is not None and (resume_set is not None or row.resume_above is None)
    cited = (
        row.citations if site_chose_all else result.cite(row, f"{row.alert} hold/resume thresholds")
    )
    return _Limit(row.code, AlertCode(row.alert), hold, resume, row.action, cited)


def _blood_counts(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    course: Course,
    on: date,
) -> None:
    values = {
        code: [
            o
            for o in case.results(code)
            if course.start <= o.date <= on and o.value is not None and o.specimen != "fetal_blood"
        ]
        for code in _CODE_ALERT
    }
    measured = {code for code, found in values.items() if found}
    for limit in _limits(result, knowledge, settings, case.context.value, course.drug, measured):
        _hold_resume(result, limit, course.drug, values[limit.code])


def _hold_resume(
    result: PathwayResult, limit: _Limit, drug: str, values: Sequence[Observation]
) -> None:
    """Walk the counts in date order: below ``hold_below`` holds; above ``resume_above`` restarts."""
    held_since: date | None = None
    resumed: date | None = None
    for o in sorted(values, key=lambda o: (o.date, o.value)):
        assert o.value is not None
        if o.value < limit.hold_below:
            held_since = held_since or o.date
            resumed = None
        elif held_since is not None and (
            limit.resume_above is None or o.value > limit.resume_above
        ):
            held_since, resumed = None, o.date
    latest = max(values, key=lambda o: (o.date, o.value))
    assert latest.value is not None
    shown = f"{_plain(latest.value)} {latest.unit} on {latest.date}"
    name = limit.code.upper() if limit.code == "anc" else limit.code
    if latest.value < limit.hold_below:
        message = f"{name} {shown} is below {_plain(limit.hold_below)}: {limit.action}"
        if limit.resume_above is not None:
            message += f" (restart when above {_plain(limit.resume_above)})"
        result.alerts.append(
            Alert(limit.alert, Severity.CRITICAL, f"{drug}: {message}.", limit.citations)
        )
    elif held_since is not None:
        result.alerts.append(
            Alert(
                limit.alert,
                Severity.WARNING,
                f"{drug}: held since {held_since} ({name} below {_plain(limit.hold_below)}); {name} {shown} "
                f"has not yet risen above {_plain(limit.resume_above or limit.hold_below)}: keep holding and recheck.",
                limit.citations,
            )
        )
    elif resumed == latest.date:
        result.alerts.append(
            Alert(
                limit.alert,
                Severity.INFO,
                f"{drug}: {name} {shown} is above {_plain(limit.resume_above or limit.hold_below)}: "
                "restart at full dose.",
                limit.citations,
            )
        )
    for edge in (limit.hold_below, limit.resume_above):
        if edge is not None and latest.value == edge:
            result.alerts.append(
                Alert(
                    AlertCode.BOUNDARY_CASE,
                    Severity.WARNING,
                    f"{drug}: {name} {shown} lies exactly on the threshold {_plain(edge)}; the thresholds are "
                    "read as strict (< to hold, > to restart) — confirm the local protocol.",
                    limit.citations,
                )
            )


# --- renal -----------------------------------------------------------------------------------


def _renal_decline(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    course: Course,
    on: date,
    patient: DosePatient | None,
) -> None:
    rule = knowledge.table("monitoring_toxicity", ToxicityLimits).renal_decline
    if course.drug not in rule.drugs:
        return
    values = [o for o in case.results("creatinine") if o.value is not None and o.date <= on]
    before = [o for o in values if o.date <= course.start]
    during = [o for o in values if course.start < o.date]
    baseline = before[-1] if before else (during[0] if during else None)
    if baseline is None or not during:
        return
    latest = max(during, key=lambda o: (o.date, o.value))
    assert latest.value is not None and baseline.value is not None
    if latest is baseline or latest.value < rule.ratio * baseline.value:
        return
    cited = result.cite(rule, "renal decline ratio")
    message = (
        f"{course.drug}: creatinine rose from {_plain(baseline.value)} mg/dL ({baseline.date}) to "
        f"{_plain(latest.value)} mg/dL ({latest.date}), at least {_plain(rule.ratio)} × baseline: re-dose for the "
        "current renal function"
    )
    entry = course.current(on)
    indication = _indication(case, entry, knowledge)
    if patient is not None and indication is not None and f"drug_{course.drug}" in knowledge.tables:
        try:
            dose = recommend_dose(patient, course.drug, indication, knowledge, route=entry.route)
        except InputError:
            dose = None
        if dose is not None:
            message += f" ({_describe(dose)})"
            cited = tuple(dict.fromkeys((*cited, *dose.citations)))
    result.alerts.append(
        Alert(AlertCode.DOSE_RENAL_ADJUSTMENT, Severity.WARNING, message + ".", cited)
    )


# --- evidence and exposure ---------------------------------------------------------------------


def _evidence(
    result: PathwayResult, knowledge: Knowledge, context: str, course: Course, on: date
) -> None:
    for row in knowledge.table("monitoring_evidence", EvidenceDurations).durations:
        if not row.applies(context, course.drug):
            continue
        limit = _evidence_limit(row.months, row.days, course.start)
        beyond = (course.stop is not None and course.stop > limit) or (
            course.stop is None and on > limit
        )
        if not beyond:
            continue
        length = f"{row.months} months" if row.months else f"{row.days} days"
        planned = f"planned to {course.stop}" if course.stop else f"still given on {on}"
        result.alerts.append(
            Alert(
                AlertCode.THERAPY_BEYOND_EVIDENCE,
                Severity.WARNING,
                f"{course.drug} started {course.start} is {planned}, beyond {length} ({limit}): {row.risk}. "
                "Weigh the benefit against the risk; if continued, check the dose on the current weight and the "
                "viral load monthly.",
                result.cite(row, f"evidence duration {row.id}"),
            )
        )


@dataclass(frozen=True)
class _Exposure:
    """A ganciclovir AUC0-12 (mg·h/L): reported by the laboratory, or computed from concentrations."""

    value: Decimal
    day: date
    method: str


def _exposures(case: Case, course: Course, on: date) -> list[_Exposure]:
    """Reported AUC12 values and AUC12s computed from each day's concentration profile.

    A profile is the ``ganciclovir_concentration`` results of one date with ``hours_after_dose``;
    its AUC0-12 is the linear trapezoid over the samples from 0 h to 12 h, and needs a sample at
    0 h (pre-dose) and one at 12 h — nothing is extrapolated. Samples after 12 h are left out.
    """
    found = [
        _Exposure(o.value, o.date, "reported by the laboratory")
        for o in case.results("ganciclovir_auc12")
        if course.start <= o.date <= on and o.value is not None
    ]
    profiles: dict[date, list[Observation]] = {}
    for o in case.results("ganciclovir_concentration"):
        if course.start <= o.date <= on and o.value is not None:
            profiles.setdefault(o.date, []).append(o)
    for day, samples in profiles.items():
        timed = sorted(
            (o.hours_after_dose, o.value)
            for o in samples
            if o.hours_after_dose is not None and o.value is not None
        )
        within = [(h, c) for h, c in timed if h <= _DOSE_INTERVAL_H]
        hours = {h for h, _ in within}
        if len(timed) < len(samples) or not {Decimal(0), _DOSE_INTERVAL_H} <= hours:
            continue
        try:
            auc = auc_trapezoid(within)
        except ValueError:  # two concentrations at the same hour
            continue
        shown = ", ".join(f"{_plain(h)} h {_plain(c)} mg/L" for h, c in within)
        found.append(
            _Exposure(
                auc.quantize(Decimal("0.1")),
                day,
                f"computed by the linear trapezoid rule from {len(within)} concentrations 0–12 h after the "
                f"dose ({shown})",
            )
        )
    return found


def _profile_gaps(case: Case, course: Course, on: date) -> list[Missing]:
    """Why a concentration profile could not give an AUC0-12 (named in ``missing``)."""
    gaps = []
    by_day: dict[date, list[Observation]] = {}
    for o in case.results("ganciclovir_concentration"):
        if course.start <= o.date <= on and o.value is not None:
            by_day.setdefault(o.date, []).append(o)
    for day, samples in sorted(by_day.items()):
        hours = [o.hours_after_dose for o in samples]
        if any(h is None for h in hours):
            gaps.append(
                Missing(
                    f"ganciclovir_concentration.hours_after_dose:{day}",
                    "each ganciclovir concentration needs the hours after the dose to compute an AUC0-12",
                )
            )
        elif not {Decimal(0), _DOSE_INTERVAL_H} <= set(hours):
            gaps.append(
                Missing(
                    f"ganciclovir_concentration:{day}",
                    "an AUC0-12 by the trapezoid rule needs a concentration at 0 h (pre-dose) and at 12 h",
                )
            )
        elif len(set(hours)) < len(hours):
            gaps.append(
                Missing(
                    f"ganciclovir_concentration:{day}",
                    "two concentrations at the same hour after the dose: give one per time point",
                )
            )
    return gaps


def _tdm(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    context: str,
    course: Course,
    on: date,
) -> None:
    """The latest ganciclovir AUC12 (reported, or from concentrations) against the target rows.

    On the same date a reported AUC12 is preferred to one computed here.
    """
    exposures = _exposures(case, course, on)
    rows = [
        r
        for r in knowledge.table("monitoring_tdm", TdmRules).targets
        if r.applies(context, course.drug)
    ]
    if rows:
        for gap in _profile_gaps(case, course, on):
            if gap not in result.missing:
                result.missing.append(gap)
    if not exposures or not rows:
        return
    latest = max(exposures, key=lambda e: (e.day, e.method.startswith("reported"), e.value))
    row = rows[0]
    cited = result.cite(row, "ganciclovir AUC12 target and high-exposure level")
    auc = _plain(latest.value)
    result.findings["ganciclovir_auc12"] = {
        "value": latest.value,
        "date": latest.day,
        "method": latest.method,
        "target": row.target_auc12,
        "high_at_or_above": row.high_at_or_above,
    }
    if latest.value >= row.high_at_or_above:
        result.alerts.append(
            Alert(
                AlertCode.HIGH_DRUG_EXPOSURE,
                Severity.WARNING,
                f"Ganciclovir AUC12 {auc} mg·h/L on {latest.day} ({latest.method}) is at or above "
                f"{_plain(row.high_at_or_above)} (target about {_plain(row.target_auc12)}): high exposure, "
                "earlier neutropenia; check the dose on the current weight and renal function, and the ANC.",
                cited,
            )
        )
    elif row.low_setting and settings.get(row.low_setting) is not None:
        low = Decimal(use_setting(result, settings, knowledge, row.low_setting) or 0)
        if latest.value < low:
            result.alerts.append(
                Alert(
                    AlertCode.CHECK_DOSING_ADHERENCE,
                    Severity.WARNING,
                    f"Ganciclovir AUC12 {auc} mg·h/L on {latest.day} ({latest.method}) is below the site level "
                    f"{_plain(low)} (target about {_plain(row.target_auc12)}): check dose, adherence and absorption.",
                    cited,
                )
            )


# --- viral-load kinetics -----------------------------------------------------------------------


@dataclass(frozen=True)
class RefractoryCall:
    """Chemaly 2019 applied to one blood series of a transplant patient."""

    series: str
    code: AlertCode | None
    start: date
    baseline: Point | None
    latest: Point
    change_log10: Decimal | None
    days_on_therapy: int
    evaluable: bool
    reason: str
    underdosed: bool = False


def _treatment_episodes(
    courses: Sequence[Course], drugs: Iterable[str], on: date
) -> tuple[Episode, ...]:
    """Episodes of treatment with ``drugs``: entries given as prophylaxis do not count."""
    entries = [
        Course(c.drug, (e.model_copy(update={"stop": _entry_end(c, i, on)}),))
        for c in courses
        for i, e in enumerate(c.entries)
        if e.indication != "prophylaxis" and e.start <= on
    ]
    return episodes(entries, drugs, on)


def refractory_calls(case: Case, knowledge: Knowledge, on: date) -> tuple[RefractoryCall, ...]:
    """The refractory status of each blood viral-load series (transplant patients; empty otherwise).

    Baseline = the last load on or before the start of the current treatment episode (I-T2;
    prophylaxis does not start it); evaluable after ``min_days`` of therapy on a dose that is
    not below target.
    """
    rules = knowledge.table("monitoring_kinetics", KineticsRules).refractory
    if case.context.value not in rules.contexts:
        return ()
    courses = therapy_courses(case.therapy)
    spans = _treatment_episodes(courses, rules.drugs, on)
    low_dose = _underdosed(case, knowledge, courses, on)
    calls = []
    for s in viral_load_series(case.observations, until=on):
        if s.specimen not in _BLOOD or not s.points:
            continue
        latest = s.points[-1]
        episode = _episode_of(latest.day, spans)
        if episode is None:
            continue
        before = [p for p in s.points if p.day <= episode.start]
        baseline = before[-1] if before else None
        days = (latest.day - episode.start).days
        change = None if baseline is None else latest.log10 - baseline.log10
        code: AlertCode | None = None
        underdosed = bool(low_dose & set(episode.drugs))
        evaluable = baseline is not None and days >= rules.min_days and not underdosed
        if baseline is None:
            reason = "no viral load on or before the start of therapy to compare with"
        elif days < rules.min_days:
            reason = f"day {days} of therapy: too early to judge (≥ {rules.min_days} days needed)"
        elif underdosed:
            reason = "the dose is below target: not appropriately dosed"
        elif change is not None and change > rules.refractory_above_log10:
            code, reason = AlertCode.REFRACTORY_CMV, "rise above the refractory threshold"
        elif change is not None and change >= 0:
            code, reason = AlertCode.PROBABLE_REFRACTORY_CMV, "the load has not fallen"
        else:
            reason = "the load is falling"
        calls.append(
            RefractoryCall(
                s.key,
                code,
                episode.start,
                baseline,
                latest,
                change,
                days,
                evaluable,
                reason,
                underdosed,
            )
        )
    return tuple(calls)


def underdosed_drugs(case: Case, knowledge: Knowledge, on: date) -> set[str]:
    """The drugs in ``case.therapy`` whose dose in force on ``on`` the dosing engine finds below target."""
    return _underdosed(case, knowledge, therapy_courses(case.therapy), on)


def _underdosed(case: Case, knowledge: Knowledge, courses: Sequence[Course], on: date) -> set[str]:
    """The drugs whose dose in force is below target (not appropriately dosed, Chemaly 2019)."""
    active = [c for c in courses if c.active_on(on)]
    if not active:
        return set()
    patient = dose_patient_from_case(case, on)
    low = set()
    for course in active:
        indication = _indication(case, course.current(on), knowledge)
        alerts = (
            _dose_alerts(course.current(on), patient, knowledge, indication) if indication else ()
        )
        if any(a.code == AlertCode.DOSE_BELOW_TARGET for a in alerts):
            low.add(course.drug)
    return low


def _kinetics(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    courses: Sequence[Course],
    series: Sequence[Series],
    on: date,
) -> list[Marker]:
    rules = knowledge.table("monitoring_kinetics", KineticsRules)
    rise_rule = rules.resistance_rise
    spans = episodes(courses, rise_rule.drugs, on)
    markers: list[Marker] = []
    triggers: list[_Trigger] = []
    for s in series:
        if s.specimen not in rise_rule.specimens or not s.points:
            continue
        episode = _episode_of(s.points[-1].day, spans)
        if episode is None:
            continue
        on_treatment = s.between(episode.start, on).points
        rise = confirmed_rise(on_treatment, rise_rule.rise_log10)
        if rise is None:
            continue
        cited = result.cite(rise_rule, "resistance rise threshold (confirmed rise above the nadir)")
        text = (
            f"{s.key}: {_plain(rise.first.value)} on {rise.first.day}"
            + (
                f" and {_plain(rise.confirmed_by.value)} on {rise.confirmed_by.day}"
                if rise.confirmed_by
                else ""
            )
            + f", {_log(rise.rise_log10)} log10 above the on-treatment nadir {_plain(rise.nadir.value)} ({rise.nadir.day})"
        )
        if rise.confirmed_by is None:
            markers.append(Marker(s.key, rise.first.day, "rise-unconfirmed", "single rise: repeat"))
            result.schedule.append(
                ScheduleItem(
                    ScheduleEvent.VIRAL_LOAD,
                    on,
                    cited,
                    reason=f"repeat the viral load to confirm or refute a single rise ({text})",
                )
            )
            continue
        result.alerts.append(
            Alert(
                AlertCode.SUSPECTED_RESISTANCE,
                Severity.WARNING,
                f"Suspected antiviral resistance: {text}, confirmed on a repeat sample.",
                cited,
            )
        )
        markers.append(
            Marker(
                s.key, rise.confirmed_by.day, AlertCode.SUSPECTED_RESISTANCE.value, "confirmed rise"
            )
        )
        triggers.append(_Trigger(rise.first.day, "a confirmed rise above the on-treatment nadir"))
    refractory_rule = rules.refractory
    for call in refractory_calls(case, knowledge, on):
        if (
            call.baseline is not None
            and not call.evaluable
            and call.latest.value > call.baseline.value
        ):
            code = (
                AlertCode.CHECK_DOSING_ADHERENCE
                if call.underdosed
                else AlertCode.EARLY_RISE_EXPECTED
            )
            result.alerts.append(
                Alert(
                    code,
                    Severity.INFO,
                    f"{call.series}: the viral load rose from {_plain(call.baseline.value)} to {_plain(call.latest.value)}, "
                    f"but {call.reason}; re-check the load at day {refractory_rule.min_days} and verify the dose.",
                    result.cite(refractory_rule, "refractory CMV definition (Chemaly 2019)"),
                )
            )
        if call.code is None:
            continue
        assert call.baseline is not None and call.change_log10 is not None
        label = "Refractory" if call.code == AlertCode.REFRACTORY_CMV else "Probable refractory"
        result.alerts.append(
            Alert(
                call.code,
                Severity.WARNING,
                f"{label} CMV infection: {call.series} {_plain(call.latest.value)} on {call.latest.day} vs "
                f"{_plain(call.baseline.value)} at the start of therapy ({call.baseline.day}), change {_log(call.change_log10)} "
                f"log10 after {call.days_on_therapy} days of therapy.",
                result.cite(refractory_rule, "refractory CMV definition (Chemaly 2019)"),
            )
        )
        markers.append(Marker(call.series, call.latest.day, call.code.value, label.lower()))
        triggers.append(_Trigger(call.latest.day, f"{label.lower()} CMV infection"))
    for trigger in _breakthrough(result, case, knowledge, settings, courses, series, on):
        triggers.append(trigger)
        markers.append(
            Marker(trigger.series, trigger.day, "breakthrough", "breakthrough on prophylaxis")
        )
    if triggers:
        _genotyping(
            result, case, knowledge, courses, series, on, min(triggers, key=lambda t: t.day)
        )
    return markers


@dataclass(frozen=True)
class _Trigger:
    """Why genotyping is considered; ``gate`` replaces the (val)ganciclovir exposure rule."""

    day: date
    why: str
    series: str = ""
    gate: tuple[int, int, str] | None = None  # (days of exposure, days needed, drug)


def _breakthrough(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    courses: Sequence[Course],
    series: Sequence[Series],
    on: date,
) -> list[_Trigger]:
    """T22 for DNAemia breaking through SOT prophylaxis (see ``BreakthroughRule``)."""
    rule = knowledge.table("monitoring_kinetics", KineticsRules).breakthrough
    tx = case.transplant
    if case.context.value != "transplant" or tx is None:
        return []
    if ("hsct" if tx.organ == "hsct" else "sot") not in rule.populations:
        return []
    found: list[_Trigger] = []
    for course in courses:
        entry = course.current(on)
        if not course.active_on(on) or entry.indication not in (None, "prophylaxis"):
            continue
        rising = course.drug in rule.rising_drugs
        if not rising and course.drug not in rule.threshold_drugs:
            continue
        for s in series:
            points = tuple(p for p in s.between(course.start, on).points if p.day > course.start)
            if s.specimen not in _BLOOD or not points:
                continue
            latest = points[-1]
            if rising:
                if len(points) < 2 or latest.value <= points[-2].value:
                    continue
                result.cite(rule, "breakthrough DNAemia on prophylaxis (T22)")
                found.append(
                    _Trigger(
                        latest.day,
                        f"rising breakthrough DNAemia on {course.drug} prophylaxis ({s.key} "
                        f"{_plain(points[-2].value)} → {_plain(latest.value)})",
                        s.key,
                    )
                )
                continue
            if settings.get(rule.threshold_setting) is None or s.unit != "IU/mL":
                continue  # the transplant pathway names the missing threshold or the mismatch
            chosen = use_setting(result, settings, knowledge, rule.threshold_setting)
            threshold = Decimal(str(chosen))
            if latest.value < threshold:
                continue
            result.cite(rule, "breakthrough DNAemia on prophylaxis (T22)")
            days = course.end_by(on) - course.start
            found.append(
                _Trigger(
                    latest.day,
                    f"breakthrough DNAemia on {course.drug} prophylaxis at or above the site's threshold "
                    f"({s.key} {_plain(latest.value)} ≥ {_plain(threshold)})",
                    s.key,
                    (days.days + 1, rule.threshold_min_exposure_days, course.drug),
                )
            )
    return found


def _genotyping(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    courses: Sequence[Course],
    series: Sequence[Series],
    on: date,
    trigger: _Trigger,
) -> None:
    rules = knowledge.table("monitoring_kinetics", KineticsRules)
    since, why = trigger.day, trigger.why
    given = {c.drug for c in courses if c.start <= on}
    genes, rows = rules.genes_after(given)
    cited: list[str] = list(result.cite(rules.genotyping, "genotyping exposure rule"))
    for row in rows:
        cited.extend(result.cite(row, f"genes to sequence after {row.drug}"))
    citations = tuple(dict.fromkeys(cited))
    exposure = sum(e.days for e in episodes(courses, rules.genotyping.exposure_drugs, on))
    needed, exposed = rules.genotyping.min_exposure_days, "(val)ganciclovir"
    if trigger.gate is not None:
        exposure, needed, exposed = trigger.gate
    done = [g for g in case.genotype if g.date >= since]
    reasons = [
        f"Triggered by {why} (since {since}); {exposure} days of cumulative {exposed} exposure."
    ]
    low = _too_low_to_amplify(series, rules.genotyping.min_log10_iu_ml)
    if done:
        outcome = Outcome.NOT_INDICATED
        reasons.append(
            f"A genotype was reported on {done[-1].date}: interpret it with the resistance report."
        )
    elif low is not None:
        outcome = Outcome.INSUFFICIENT_DATA
        reasons.append(
            f"The latest load ({low}) is below the level at which sequencing usually succeeds."
        )
        result.missing.append(Missing("cmv_dna", "a viral load high enough to sequence"))
    elif exposure >= needed:
        outcome = Outcome.RECOMMENDED
        reasons.append(
            "Send the genes listed; meanwhile check the dose per kg on the current weight and renal function, "
            "adherence and absorption, and consider drug-level monitoring."
        )
        result.schedule.append(
            ScheduleItem(ScheduleEvent.GENOTYPE, on, citations, reason=", ".join(genes))
        )
        if not any(a.code == AlertCode.SUSPECTED_RESISTANCE for a in result.alerts):
            result.alerts.append(
                Alert(
                    AlertCode.SUSPECTED_RESISTANCE,
                    Severity.WARNING,
                    f"Resistance suspected: {why} after {exposure} days of {exposed} exposure.",
                    citations,
                )
            )
    else:
        outcome = Outcome.SPECIALIST_REVIEW
        reasons.append(
            f"Resistance is uncommon before {needed} days of {exposed} exposure: check the dose, "
            "absorption and immunosuppression first."
        )
    result.decisions.append(
        Decision(
            DecisionId.RESISTANCE_GENOTYPING,
            outcome,
            tuple(reasons),
            citations,
            rules=("D-4", "T22"),
            # genes to sequence only when sequencing is (or may be) asked for now
            genes=() if outcome is Outcome.NOT_INDICATED else genes,
        )
    )


def _too_low_to_amplify(series: Sequence[Series], min_log10: Decimal | None) -> str | None:
    if min_log10 is None:
        return None
    for s in series:
        if (
            s.specimen in _BLOOD
            and s.unit == "IU/mL"
            and s.points
            and s.points[-1].log10 < min_log10
        ):
            return f"{_plain(s.points[-1].value)} IU/mL"
    return None


# --- formatting ----------------------------------------------------------------------------------


def _plain(value: Decimal | Fraction | int) -> str:
    number = (
        Decimal(value)
        if not isinstance(value, Fraction)
        else Decimal(value.numerator) / value.denominator
    )
    text = f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}"
    return text


def _log(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"
