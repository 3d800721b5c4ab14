"""The study's analyses on the database: outcome tables (2×2, stratified), safety, dashboard.

Analyses are data (``study.yaml``: exposure, outcome, strata; ``any_of`` makes a composite,
counted per pregnancy by ``composite.py``); each returns counts, the outcome's definition and
the statistics of ``statistics.py`` with the methods named (crude, unweighted odds ratios).
Subjects who withdrew consent are left out; site users analyse only their site.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from cmvcds.errors import AccessDenied, InputError
from cmvcds.knowledge.schemas.registry import Analysis
from cmvcds.registry.access import Actor, Permission, require
from cmvcds.registry.composite import Row, composite_counts, describe
from cmvcds.registry.dictionary import choices
from cmvcds.registry.models import Consent, DataQuery, DataValue, QueryStatus, Site, Subject
from cmvcds.registry.services.crf import SAFETY_FIELDS, current_crf
from cmvcds.registry.services.subjects import withdrawn_subquery
from cmvcds.registry.statistics import proportion, two_by_two

__all__ = ["analyse", "analyse_all", "dashboard", "safety_table"]

SEVERITY, RELATION, TREATED = SAFETY_FIELDS


def _counts(session: Session, actor: Actor, analysis: Analysis) -> list[Row]:
    """Counts per (exposure, event?, stratum); the mother's exposure row drives the query."""
    if analysis.any_of:
        return composite_counts(session, actor, analysis)
    exposure = aliased(DataValue, name="exposure")
    outcome = aliased(DataValue, name="outcome")
    stratum = aliased(DataValue, name="stratum")
    grouped = [exposure.value, outcome.value, *([stratum.value] if analysis.strata else [])]
    query = select(*grouped, func.count()).select_from(exposure)
    holder_id = exposure.subject_id
    if analysis.outcome.subject == "newborn":
        child = aliased(Subject, name="child")
        query = query.join(child, child.mother_id == exposure.subject_id).where(
            child.id.not_in(withdrawn_subquery())
        )
        holder_id = child.id
    query = query.join(
        outcome,
        and_(
            outcome.subject_id == holder_id,
            outcome.event == analysis.outcome.event,
            outcome.field == analysis.outcome.field,
        ),
    )
    if analysis.strata:
        query = query.outerjoin(
            stratum,
            and_(
                stratum.subject_id == exposure.subject_id,
                stratum.event == analysis.strata.event,
                stratum.field == analysis.strata.field,
            ),
        )
    query = query.where(
        exposure.event == analysis.exposure.event,
        exposure.field == analysis.exposure.field,
        exposure.subject_id.not_in(withdrawn_subquery()),
        exposure.value.in_((*analysis.exposed, *analysis.unexposed)),
        outcome.value.in_((*analysis.outcome.events, *analysis.outcome.non_events)),
    ).group_by(*grouped)
    if actor.role.site_scoped:
        query = query.where(exposure.site_id == actor.site_id)
    rows = []
    for row in session.execute(query):
        stratum_code = row[2] if analysis.strata else None
        event = str(row[1]) in analysis.outcome.events
        rows.append((str(row[0]), event, stratum_code, int(row[-1])))
    return rows


def _table(rows: list[Row], analysis: Analysis) -> tuple[int, int, int, int]:
    a = b = c = d = 0
    for exposure, event, _stratum, n in rows:
        exposed = exposure in analysis.exposed
        if exposed and event:
            a += n
        elif exposed:
            b += n
        elif event:
            c += n
        else:
            d += n
    return a, b, c, d


def _result(table: tuple[int, int, int, int]) -> dict[str, Any]:
    a, b, c, d = table
    if (a + b) == 0 or (c + d) == 0:
        return {"table": {"exposed": [a, b], "unexposed": [c, d]}, "odds_ratio": None,
                "note": "a row of the table is empty"}  # fmt: skip
    return two_by_two(a, b, c, d).as_dict()


def analyse(session: Session, actor: Actor, analysis_id: str) -> dict[str, Any]:
    """One outcome analysis: overall and per stratum, methods named."""
    require(actor, Permission.ANALYSE)
    crf = current_crf(session)
    analysis = next((a for a in crf.design.analyses if a.id == analysis_id), None)
    if analysis is None:
        known = ", ".join(a.id for a in crf.design.analyses)
        raise InputError(f"unknown analysis {analysis_id!r}; analyses: {known}", field="analysis")
    rows = _counts(session, actor, analysis)
    result: dict[str, Any] = {
        "id": analysis.id, "label": analysis.label, "role": analysis.role,
        "exposure": analysis.exposure.field, "outcome": analysis.outcome.field,
        "citations": list(analysis.citations),
        "outcome_definition": describe(analysis) if analysis.any_of else {
            "method": "single-outcome", "unit": analysis.outcome.subject,
            "rule": f"event: {analysis.outcome.field} in {list(analysis.outcome.events)}; "
                    f"non-event: {list(analysis.outcome.non_events)}; otherwise missing (left out)",
        },
        "estimate": "crude (unweighted) odds ratio",
        "overall": _result(_table(rows, analysis)),
        "strata": [],
        "excluded": "subjects who withdrew consent; subjects with the exposure or outcome missing",
    }  # fmt: skip
    if analysis.strata:
        labels = choices(crf.by_name[analysis.strata.field])
        by_stratum: dict[str | None, list[Row]] = defaultdict(list)
        for row in rows:
            by_stratum[row[2]].append(row)
        for code in [*labels, None]:
            if code in by_stratum:
                result["strata"].append({
                    "stratum": code, "label": labels.get(code or "", "not recorded"),
                    **_result(_table(by_stratum[code], analysis)),
                })  # fmt: skip
    return result


def analyse_all(session: Session, actor: Actor) -> list[dict[str, Any]]:
    return [analyse(session, actor, a.id) for a in current_crf(session).design.analyses]


def safety_table(session: Session, actor: Actor) -> dict[str, Any]:
    """Adverse events by severity (CTCAE grade) × relation to the drug, and subjects affected."""
    require(actor, Permission.ANALYSE)
    crf = current_crf(session)
    severity = aliased(DataValue, name="severity")
    relation = aliased(DataValue, name="relation")
    query = (
        select(severity.value, relation.value, func.count(), func.count(func.distinct(severity.subject_id)))
        .join(relation, and_(
            relation.subject_id == severity.subject_id, relation.event == severity.event,
            relation.instrument == severity.instrument, relation.instance == severity.instance,
            relation.field == RELATION,
        ))
        .where(severity.field == SEVERITY, severity.subject_id.not_in(withdrawn_subquery()))
        .group_by(severity.value, relation.value)
    )  # fmt: skip
    treated = select(func.count(func.distinct(DataValue.subject_id))).where(
        DataValue.field == TREATED,
        DataValue.value == "1",
        DataValue.subject_id.not_in(withdrawn_subquery()),
    )
    with_ae = select(func.count(func.distinct(DataValue.subject_id))).where(
        DataValue.field == SEVERITY, DataValue.subject_id.not_in(withdrawn_subquery())
    )
    if actor.role.site_scoped:
        query = query.where(severity.site_id == actor.site_id)
        treated = treated.where(DataValue.site_id == actor.site_id)
        with_ae = with_ae.where(DataValue.site_id == actor.site_id)
    grades = choices(crf.by_name[SEVERITY])
    relations = choices(crf.by_name[RELATION])
    cells = {(str(s), str(r)): int(n) for s, r, n, _subjects in session.execute(query)}
    n_treated = int(session.scalar(treated) or 0)
    n_with_ae = int(session.scalar(with_ae) or 0)
    return {
        "rows": [
            {"severity": grades[g], "by_relation": {relations[r]: cells.get((g, r), 0) for r in relations},
             "total": sum(cells.get((g, r), 0) for r in relations)}
            for g in grades
        ],
        "events": sum(cells.values()),
        "subjects_with_event": n_with_ae,
        "treated_subjects": n_treated,
        "related_events": sum(n for (g, r), n in cells.items() if r in ("3", "4", "5")),
        "proportion_treated_with_event": proportion(min(n_with_ae, n_treated), n_treated).as_dict()
        if n_treated else None,
    }  # fmt: skip


def dashboard(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Per site: enrolled mothers and newborns, withdrawals, completeness of key fields, open queries."""
    if not (actor.can(Permission.READ_DATA) or actor.can(Permission.ANALYSE)):
        raise AccessDenied(f"user {actor.username!r} may not see the dashboard")
    crf = current_crf(session)
    primary = next((a for a in crf.design.analyses if a.role == "primary"), None)
    key_fields = [primary.exposure.field, primary.outcome.field] if primary else []
    site_filter = [Site.id == actor.site_id] if actor.role.site_scoped else []
    sites = {s.id: s for s in session.scalars(select(Site).where(*site_filter))}
    counts: dict[str, dict[str, Any]] = {
        sid: {"site": s.code, "name": s.name, "mothers": 0, "newborns": 0, "withdrawn": 0, "open_queries": 0,
              "recorded": dict.fromkeys(key_fields, 0)}
        for sid, s in sites.items()
    }  # fmt: skip
    for sid, kind, n in session.execute(
        select(Subject.site_id, Subject.kind, func.count())
        .where(Subject.site_id.in_(sites))
        .group_by(Subject.site_id, Subject.kind)
    ):
        counts[sid]["mothers" if kind == "mother" else "newborns"] = int(n)
    for sid, n in session.execute(
        select(Consent.site_id, func.count(func.distinct(Consent.subject_id)))
        .where(Consent.withdrawn_on.is_not(None), Consent.site_id.in_(sites))
        .group_by(Consent.site_id)
    ):
        counts[sid]["withdrawn"] = int(n)
    for sid, n in session.execute(
        select(DataQuery.site_id, func.count())
        .where(DataQuery.status != QueryStatus.CLOSED, DataQuery.site_id.in_(sites))
        .group_by(DataQuery.site_id)
    ):
        counts[sid]["open_queries"] = int(n)
    if key_fields:
        for sid, name, n in session.execute(
            select(DataValue.site_id, DataValue.field, func.count())
            .where(DataValue.field.in_(key_fields), DataValue.site_id.in_(sites))
            .group_by(DataValue.site_id, DataValue.field)
        ):
            counts[sid]["recorded"][name] = int(n)
    for row in counts.values():
        row["completeness"] = {
            name: (n / row["mothers"] if row["mothers"] else None)
            for name, n in row["recorded"].items()
        }
    return sorted(counts.values(), key=lambda r: r["site"])
