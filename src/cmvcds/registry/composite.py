"""Counts of a composite outcome (``Analysis.any_of``): ``outcome`` OR each further component.

The unit is the pregnancy (the mother's record). Each component is read from the mother's own
record or from her newborns' (``subject: newborn``), and is for that pregnancy:

    an event       when any of its recorded values is an event code (any newborn infected)
    a non-event    when it has values and all of them are non-event codes
    missing        otherwise

The composite is an event when any component is an event, a non-event when every component is
a non-event, and missing otherwise (such a pregnancy is left out, as a missing outcome is).
MEGAL-ITALI's composite: termination of pregnancy or congenital infection at birth.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from cmvcds.knowledge.schemas.registry import Analysis, Outcome
from cmvcds.registry.access import Actor
from cmvcds.registry.models import DataValue, Subject
from cmvcds.registry.services.subjects import withdrawn_subquery

__all__ = ["COMPOSITE_METHOD", "composite_counts", "describe"]

COMPOSITE_METHOD = "any-component-event-per-pregnancy"
Row = tuple[str, bool, str | None, int]


def describe(analysis: Analysis) -> dict[str, Any]:
    """The composite's definition as the analysis output names it."""
    return {
        "method": COMPOSITE_METHOD,
        "unit": "pregnancy",
        "components": [
            {"event": c.event, "field": c.field, "subject": c.subject,
             "events": list(c.events), "non_events": list(c.non_events)}
            for c in (analysis.outcome, *analysis.any_of)
        ],
        "rule": "event if any component is an event; non-event if every component is a "
        "recorded non-event; otherwise missing (left out)",
    }  # fmt: skip


def composite_counts(session: Session, actor: Actor, analysis: Analysis) -> list[Row]:
    """Pregnancies per (exposure code, composite event?, stratum code), counted in the database."""
    exposure = aliased(DataValue, name="exposure")
    stratum = aliased(DataValue, name="stratum")
    flags: list[tuple[ColumnElement[Any], ColumnElement[Any]]] = []  # (event?, non-event?)
    joins: list[tuple[Any, ColumnElement[bool]]] = []
    for n, component in enumerate((analysis.outcome, *analysis.any_of)):
        if component.subject == "mother":  # her own (non-repeating) form: one value, joined
            own = aliased(DataValue, name=f"c{n}")
            joins.append((own, and_(own.subject_id == exposure.subject_id,
                                    own.event == component.event, own.field == component.field)))  # fmt: skip
            flags.append((own.value.in_(component.events), own.value.in_(component.non_events)))
        else:  # her newborns' values, aggregated per mother (twins)
            part = _newborns(actor, component, f"c{n}")
            joins.append((part, part.c.mother_id == exposure.subject_id))
            flags.append((part.c.ev == 1, part.c.ne == 1))
    event = or_(*[func.coalesce(ev, False) for ev, _ne in flags])
    non_event = and_(
        *[and_(func.coalesce(ne, False), ~func.coalesce(ev, False)) for ev, ne in flags]
    )
    state = case((event, 1), (non_event, 0), else_=None).label("state")
    grouped = [exposure.value, state, *([stratum.value] if analysis.strata else [])]
    query = select(*grouped, func.count()).select_from(exposure)
    for target, on in joins:
        query = query.outerjoin(target, on)
    if analysis.strata:
        query = query.outerjoin(stratum, and_(
            stratum.subject_id == exposure.subject_id, stratum.event == analysis.strata.event,
            stratum.field == analysis.strata.field,
        ))  # fmt: skip
    query = query.where(
        exposure.event == analysis.exposure.event,
        exposure.field == analysis.exposure.field,
        exposure.value.in_((*analysis.exposed, *analysis.unexposed)),
        exposure.subject_id.not_in(withdrawn_subquery()),
    ).group_by(*grouped)
    if actor.role.site_scoped:
        query = query.where(exposure.site_id == actor.site_id)
    rows = []
    for row in session.execute(query):
        if row[1] is None:
            continue  # the composite is missing for these pregnancies: left out
        stratum_code = str(row[2]) if analysis.strata and row[2] is not None else None
        rows.append((str(row[0]), bool(row[1]), stratum_code, int(row[-1])))
    return rows


def _newborns(actor: Actor, outcome: Outcome, name: str) -> Subquery:
    """Per mother: ``ev`` 1 when any newborn's value is an event code, ``ne`` 1 when all are
    non-event codes (withdrawn newborns left out)."""
    query = (
        select(
            Subject.mother_id.label("mother_id"),
            func.max(case((DataValue.value.in_(outcome.events), 1), else_=0)).label("ev"),
            func.min(case((DataValue.value.in_(outcome.non_events), 1), else_=0)).label("ne"),
        )
        .join(Subject, Subject.id == DataValue.subject_id)
        .where(
            Subject.mother_id.is_not(None),
            DataValue.event == outcome.event,
            DataValue.field == outcome.field,
            DataValue.subject_id.not_in(withdrawn_subquery()),
        )
    )
    if actor.role.site_scoped:
        query = query.where(DataValue.site_id == actor.site_id)
    return query.group_by(Subject.mother_id).subquery(name)
