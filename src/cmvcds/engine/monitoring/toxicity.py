"""Is the drug safe to continue? Blood counts (hold/resume) and renal decline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Alert, PathwayResult, ScheduleItem
from cmvcds.domain.sentences import clause, sentence
from cmvcds.domain.settings import SiteSettings, use_setting
from cmvcds.domain.vocabulary import (
    AlertCode,
    ScheduleEvent,
    Severity,
)
from cmvcds.engine.dosing import (
    DosePatient,
    recommend_dose,
)
from cmvcds.engine.monitoring.common import CODE_ALERT, MEASURE_CODE, plain
from cmvcds.engine.monitoring.courses import Course
from cmvcds.engine.monitoring.dose import describe_dose, indication_of
from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.drugs import Check, DrugLabel
from cmvcds.knowledge.schemas.monitoring import (
    BloodCountLimit,
    ResumeDose,
    ToxicityLimits,
)


@dataclass(frozen=True)
class Limit:
    """A blood-count limit in force for one drug: hold below, restart above, what sources say."""

    code: str
    alert: AlertCode
    hold_below: Decimal
    resume_above: Decimal | None
    action: str
    citations: tuple[str, ...]
    resume_doses: tuple[ResumeDose, ...] = ()
    #: days from a count that keeps the drug held to the next count (the row's
    #: ``recheck_days``); None (a label limit: the label sets no interval): recheck now
    recheck_days: int | None = None

    @property
    def name(self) -> str:
        return self.code.upper() if self.code == "anc" else self.code

    def restart_condition(self, unit: str) -> str:
        """What restarts the drug, as the comparison reads it (strict, as written: ``> resume_above``;
        a label limit without a restart level: not below ``hold_below``)."""
        if self.resume_above is not None:
            return f"{self.name} above {plain(self.resume_above)} {unit}".rstrip()
        return f"{self.name} at least {plain(self.hold_below)} {unit}".rstrip()

    def recheck(self, counted: date, on: date) -> date:
        """When to count again after a count on ``counted`` that keeps the drug held: the row's
        interval after it, never before ``on`` (an overdue recheck is due today)."""
        if self.recheck_days is None:
            return on
        return max(on, counted + timedelta(days=self.recheck_days))


@dataclass(frozen=True)
class CountHold:
    """A blood-count hold in force on a day (one limit of the drug): since when, the latest
    count, what restarts the drug and when to count again (probe9 #6: the hold the alert states
    is the hold the decision and the regimen carry)."""

    drug: str
    limit: Limit
    since: date
    latest: Observation
    recheck: date

    @property
    def shown(self) -> str:
        assert self.latest.value is not None
        return f"{plain(self.latest.value)} {self.latest.unit} on {self.latest.date}"

    @property
    def condition(self) -> str:
        return self.limit.restart_condition(self.latest.unit or "")

    def clause(self, then: str) -> str:
        """The hold in words, ``then`` introducing the restart condition ("keep holding until")."""
        name = self.limit.name
        return (
            f"held since {self.since} for {self.limit.alert.value} ({name} below "
            f"{plain(self.limit.hold_below)}; latest {name} {self.shown}): {then} "
            f"{self.condition}; recheck the {name} on {self.recheck}"
        )


def held_text(holds: Sequence[CountHold]) -> str:
    """A regimen's ``held`` sentence for the count holds in force (ADR 0029, 0031)."""
    return "; ".join(h.clause("keep holding until") for h in holds) + (
        "; this is the dose when restarted"
    )


def hold_reason(holds: Sequence[CountHold]) -> str:
    """The decision's words for the count holds in force (no full stop)."""
    return "; ".join(h.clause("restart only when") for h in holds)


def limits_for(
    result: PathwayResult,
    knowledge: Knowledge,
    settings: SiteSettings,
    context: str,
    drug: str,
    measured: set[str],
) -> list[Limit]:
    """Site rows (hold/resume) first, then the drug label's limits, for the ``measured`` codes."""
    limits: dict[str, Limit] = {}
    for row in knowledge.table("monitoring_toxicity", ToxicityLimits).blood_counts:
        if row.applies(context, drug) and row.code in measured:
            limits[row.code] = _site_limit(result, knowledge, settings, row)
    label = knowledge.tables.get(f"drug_{drug}")
    if isinstance(label, DrugLabel):
        for check in label.checks:
            code = MEASURE_CODE.get(check.measure)
            if code in measured and code not in limits and check.below is not None:
                assert code is not None
                cited = result.cite(check, f"{drug} label limit {check.id}")
                limits[code] = Limit(
                    code, CODE_ALERT[code], check.below, None, check.message, cited
                )
    return list(limits.values())


def _site_limit(
    result: PathwayResult, knowledge: Knowledge, settings: SiteSettings, row: BloodCountLimit
) -> Limit:
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
    return Limit(
        row.code,
        AlertCode(row.alert),
        hold,
        resume,
        row.action,
        cited,
        row.resume_doses,
        row.recheck_days,
    )


def _counts(case: Case, start: date, on: date) -> dict[str, list[Observation]]:
    """The blood counts of each code from ``start`` to ``on`` (fetal blood is not the patient's)."""
    return {
        code: [
            o
            for o in case.results(code)
            if start <= o.date <= on and o.value is not None and o.specimen != "fetal_blood"
        ]
        for code in CODE_ALERT
    }


def _walk(limit: Limit, values: Sequence[Observation]) -> tuple[date | None, date | None]:
    """Walk the counts in date order: below ``hold_below`` holds; above ``resume_above`` (a label
    limit without one: not below ``hold_below``) restarts. The hold in force at the end (its
    first day) and the day of the last restart."""
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
    return held_since, resumed


def count_holds(
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    drug: str,
    start: date,
    on: date,
) -> tuple[CountHold, ...]:
    """The blood-count holds in force on ``on`` for a course of ``drug`` running since ``start``:
    the same walk as the monitoring alerts (``blood_counts``), so the pathways that give the
    course's dose carry the hold the alert states (probe9 #6). Pure: the citations and the
    settings used are recorded by the monitoring pathway."""
    values = _counts(case, start, on)
    measured = {code for code, found in values.items() if found}
    holds = []
    for limit in limits_for(
        PathwayResult(), knowledge, settings, case.context.value, drug, measured
    ):
        since, _ = _walk(limit, values[limit.code])
        if since is not None:
            latest = max(values[limit.code], key=lambda o: (o.date, o.value))
            holds.append(CountHold(drug, limit, since, latest, limit.recheck(latest.date, on)))
    return tuple(holds)


def blood_counts(
    result: PathwayResult,
    case: Case,
    knowledge: Knowledge,
    settings: SiteSettings,
    course: Course,
    on: date,
) -> None:
    values = _counts(case, course.start, on)
    measured = {code for code, found in values.items() if found}
    for limit in limits_for(result, knowledge, settings, case.context.value, course.drug, measured):
        label = _label_check(knowledge, course.drug, limit.code)
        _hold_resume(result, limit, course.drug, values[limit.code], on, label)
    for check in _review_checks(knowledge, course.drug):
        code = MEASURE_CODE[check.measure]
        # fixr23a: the count the course started on (the latest before its start) is read too
        before = [
            o
            for o in case.results(code)
            if o.date < course.start and o.value is not None and o.specimen != "fetal_blood"
        ]
        counted = [*before[-1:], *values[code]]
        if counted:
            _review_count(result, check, course.drug, counted, on)


def _review_checks(knowledge: Knowledge, drug: str) -> tuple[Check, ...]:
    """The label's blood-count rows that send the drug to a specialist's review rather than
    hold it (debt23: cidofovir, ANC ≤ 500 cells/µL, the label's grade of serious neutropenia;
    the label gives no hold or restart level, so no hold walk)."""
    label = knowledge.tables.get(f"drug_{drug}")
    if not isinstance(label, DrugLabel):
        return ()
    return tuple(
        c for c in label.checks if c.effect == "review" and c.measure in MEASURE_CODE
    )


def _review_count(
    result: PathwayResult, check: Check, drug: str, values: Sequence[Observation], on: date
) -> None:
    """A critical alert when the latest count of the course lies in the review row's range: the
    next dose only after a specialist's review; the count is rechecked before it (today). The
    alert is the dosing engine's own for the row (equal, so said once when a pathway doses the
    course too); the count and its date are in the recheck item."""
    latest = max(values, key=lambda o: (o.date, o.value))
    assert latest.value is not None
    if not check.contains(Fraction(latest.value)):
        return
    code = MEASURE_CODE[check.measure]
    name = code.upper() if code == "anc" else code
    result.cite(check, f"{drug} {check.id} limit")  # the dosing engine's words: cited once
    alert = Alert(AlertCode(check.alert), Severity(check.severity), check.message, check.citations)
    if alert not in result.alerts:
        result.alerts.append(alert)
    result.schedule.append(
        ScheduleItem(
            ScheduleEvent.BLOOD_COUNT,
            on,
            check.citations,
            reason=f"{drug}: {name} {plain(latest.value)} {latest.unit} on {latest.date}: "
            "recheck before the next dose and review with a specialist",
        )
    )


def _label_check(knowledge: Knowledge, drug: str, code: str) -> Check | None:
    """The drug label's own limit on the count ``code`` (valganciclovir §5.1: ANC < 500), if any."""
    label = knowledge.tables.get(f"drug_{drug}")
    if not isinstance(label, DrugLabel):
        return None
    return next(
        (c for c in label.checks if MEASURE_CODE.get(c.measure) == code and c.below is not None),
        None,
    )


def _hold_resume(
    result: PathwayResult,
    limit: Limit,
    drug: str,
    values: Sequence[Observation],
    on: date,
    label: Check | None = None,
) -> None:
    """The alert of the walk's end state: a count below the limit (critical), a hold not yet
    recovered (warning), a restart; while a hold is in force, a ``blood-count`` recheck item."""
    held_since, resumed = _walk(limit, values)
    latest = max(values, key=lambda o: (o.date, o.value))
    assert latest.value is not None
    shown = f"{plain(latest.value)} {latest.unit} on {latest.date}"
    name = limit.name
    recheck = limit.recheck(latest.date, on)
    if latest.value < limit.hold_below:
        message = f"{name} {shown} is below {plain(limit.hold_below)}: {clause(limit.action)}"
        if limit.resume_above is not None:
            message += f" (restart when above {plain(limit.resume_above)})"
        message = sentence(f"{drug}: {message}") + f" Recheck the {name} on {recheck}."
        result.alerts.append(Alert(limit.alert, Severity.CRITICAL, message, limit.citations))
    elif held_since is not None:
        result.alerts.append(
            Alert(
                limit.alert,
                Severity.WARNING,
                f"{drug}: held since {held_since} ({name} below {plain(limit.hold_below)}); {name} {shown} "
                f"has not yet risen above {plain(limit.resume_above or limit.hold_below)}: keep holding and recheck "
                f"the {name} on {recheck}.",
                limit.citations,
            )
        )
    elif resumed == latest.date:
        restart, cited = restart_dose(result, limit, drug)
        result.alerts.append(
            Alert(
                limit.alert,
                Severity.INFO,
                f"{drug}: {name} {shown} is above {plain(limit.resume_above or limit.hold_below)}: "
                f"{restart}",
                tuple(dict.fromkeys((*limit.citations, *cited))),
            )
        )
    if held_since is not None:
        result.schedule.append(
            ScheduleItem(
                ScheduleEvent.BLOOD_COUNT,
                recheck,
                limit.citations,
                reason=f"{drug} held for {limit.alert.value} since {held_since}: recheck the {name} "
                f"before restarting (restart when {limit.restart_condition(latest.unit or '')})",
            )
        )
    for edge in (limit.hold_below, limit.resume_above):
        if edge is not None and latest.value == edge:
            result.alerts.append(_on_the_edge(limit, drug, shown, edge, held_since, label))


def _on_the_edge(
    limit: Limit,
    drug: str,
    shown: str,
    edge: Decimal,
    held_since: date | None,
    label: Check | None,
) -> Alert:
    """A count exactly on a threshold: what the strict reading does with it, and on what basis.
    The hold edge is read as the label words its limit (valganciclovir §5.1: "below 500"); the
    neonatal protocol's own wording (< 500 or ≤ 500) was not read (probe9 #8)."""
    name = limit.name
    state = f"held since {held_since}" if held_since is not None else "not held"
    cited = limit.citations
    if edge == limit.hold_below:
        rule = f"the hold is read as strict ({name} below {plain(edge)})"
        if label is not None and label.below == edge and label.citations != limit.citations:
            section = f" {label.section}" if label.section else ""
            rule += f", as the drug label words its limit ({label.citations[0]}{section}: below {plain(edge)})"
            cited = tuple(dict.fromkeys((*cited, *label.citations)))
        if limit.resume_above is not None:
            rule += f"; a hold in force ends only above {plain(limit.resume_above)}"
    else:
        rule = f"the restart is read as strict ({name} above {plain(edge)}, not at it)"
    return Alert(
        AlertCode.BOUNDARY_CASE,
        Severity.WARNING,
        f"{drug}: {name} {shown} lies exactly on the threshold {plain(edge)}: {state} — {rule}. "
        "A protocol that holds at or below the threshold would hold it: confirm the local protocol."
        if edge == limit.hold_below and held_since is None
        else f"{drug}: {name} {shown} lies exactly on the threshold {plain(edge)}: {state} — {rule}; "
        "confirm the local protocol.",
        cited,
    )


def renal_decline(
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
    label = knowledge.tables.get(f"drug_{course.drug}")
    if isinstance(label, DrugLabel) and label.on_therapy_renal:
        return  # the label's own on-therapy rows decide (renal_rules: cidofovir 5 -> 3 mg/kg)
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
        f"{course.drug}: creatinine rose from {_mg_dl(baseline)} ({baseline.date}) to "
        f"{_mg_dl(latest)} ({latest.date}), at least {plain(rule.ratio)} × baseline: re-dose for the "
        "current renal function"
    )
    entry = course.current(on)
    indication = indication_of(case, entry, knowledge)
    if patient is not None and indication is not None and f"drug_{course.drug}" in knowledge.tables:
        try:
            dose = recommend_dose(patient, course.drug, indication, knowledge, route=entry.route)
        except InputError:
            dose = None
        if dose is not None:
            message += f" ({describe_dose(dose)})"
            cited = tuple(dict.fromkeys((*cited, *dose.citations)))
    result.alerts.append(
        Alert(AlertCode.DOSE_RENAL_ADJUSTMENT, Severity.WARNING, message + ".", cited)
    )


def restart_dose(result: PathwayResult, limit: Limit, drug: str) -> tuple[str, tuple[str, ...]]:
    """What to restart at, in the sources' words; when they differ, every wording and a
    ``sources-differ`` alert (no source is picked silently)."""
    if not limit.resume_doses:
        return "restart at full dose.", ()
    cited: list[str] = []
    for row in limit.resume_doses:
        cited.extend(result.cite(row, f"{drug} restart dose after a hold"))
    fractions = {row.fraction for row in limit.resume_doses}
    if len(fractions) == 1:
        row = limit.resume_doses[0]
        return f"restart at {_fraction_text(row.fraction)} ({row.wording}).", tuple(cited)
    said = "; ".join(
        _fraction_text(row.fraction)
        + (f" after {limit.code.upper()} > {plain(row.resume_above)}" if row.resume_above else "")
        + f" ({', '.join(row.citations)}: {row.wording})"
        for row in limit.resume_doses
    )
    message = (
        f"{drug}: the sources differ on the dose after a hold for {limit.alert.value}: {said}. "
        "Follow the local protocol and record the dose given."
    )
    alert = Alert(AlertCode.SOURCES_DIFFER, Severity.WARNING, message, tuple(dict.fromkeys(cited)))
    if alert not in result.alerts:
        result.alerts.append(alert)
    return (
        "restart; the sources differ on the restart dose (full or half dose: see sources-differ).",
        tuple(cited),
    )


def _fraction_text(fraction: Decimal) -> str:
    if fraction == 1:
        return "full dose"
    if fraction == Decimal("0.5"):
        return "half dose"
    return f"{plain(fraction)} × the full dose"


def _mg_dl(observation: Observation) -> str:
    """A creatinine as shown: mg/dL to 2 decimals (probe14 F10: 300 µmol/L ÷ 88.4 printed with
    28 digits); the rule compares the full values."""
    assert observation.value is not None
    shown = observation.value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return f"{plain(shown)} mg/dL"
