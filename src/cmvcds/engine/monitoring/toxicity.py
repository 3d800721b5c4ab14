"""Is the drug safe to continue? Blood counts (hold/resume) and renal decline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cmvcds.domain.case import Case, Observation
from cmvcds.domain.results import Alert, PathwayResult
from cmvcds.domain.sentences import clause, sentence
from cmvcds.domain.settings import SiteSettings, use_setting
from cmvcds.domain.vocabulary import (
    AlertCode,
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
from cmvcds.knowledge.schemas.drugs import DrugLabel
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
    return Limit(row.code, AlertCode(row.alert), hold, resume, row.action, cited, row.resume_doses)


def blood_counts(
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
        for code in CODE_ALERT
    }
    measured = {code for code, found in values.items() if found}
    for limit in limits_for(result, knowledge, settings, case.context.value, course.drug, measured):
        _hold_resume(result, limit, course.drug, values[limit.code])


def _hold_resume(
    result: PathwayResult, limit: Limit, drug: str, values: Sequence[Observation]
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
    shown = f"{plain(latest.value)} {latest.unit} on {latest.date}"
    name = limit.code.upper() if limit.code == "anc" else limit.code
    if latest.value < limit.hold_below:
        message = f"{name} {shown} is below {plain(limit.hold_below)}: {clause(limit.action)}"
        if limit.resume_above is not None:
            message += f" (restart when above {plain(limit.resume_above)})"
        result.alerts.append(
            Alert(limit.alert, Severity.CRITICAL, sentence(f"{drug}: {message}"), limit.citations)
        )
    elif held_since is not None:
        result.alerts.append(
            Alert(
                limit.alert,
                Severity.WARNING,
                f"{drug}: held since {held_since} ({name} below {plain(limit.hold_below)}); {name} {shown} "
                f"has not yet risen above {plain(limit.resume_above or limit.hold_below)}: keep holding and recheck.",
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
    for edge in (limit.hold_below, limit.resume_above):
        if edge is not None and latest.value == edge:
            result.alerts.append(
                Alert(
                    AlertCode.BOUNDARY_CASE,
                    Severity.WARNING,
                    f"{drug}: {name} {shown} lies exactly on the threshold {plain(edge)}; the thresholds are "
                    "read as strict (< to hold, > to restart) — confirm the local protocol.",
                    limit.citations,
                )
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
        f"{course.drug}: creatinine rose from {plain(baseline.value)} mg/dL ({baseline.date}) to "
        f"{plain(latest.value)} mg/dL ({latest.date}), at least {plain(rule.ratio)} × baseline: re-dose for the "
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
