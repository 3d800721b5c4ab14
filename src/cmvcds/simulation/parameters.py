"""The model inputs: base values from the knowledge pack, PSA draws, and one-way overrides.

Every number comes from ``simulation_parameters`` (knowledge/data/simulation/parameters.yaml);
``beta`` and ``lognormal`` rows are fitted so that the row's range is their central 95 %. A
``population`` (a row of ``simulation_seroprevalence``: a region, or an age band of one) takes
the place of the ``seroprevalence`` row, its range included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.simulation import (
    Parameter,
    ParameterTable,
    Population,
    SeroprevalenceTable,
)

__all__ = ["base_inputs", "check_values", "draw_inputs", "override", "parameter_rows", "population", "report_days_max", "varied"]

Z95 = 1.959964


def population(knowledge: Knowledge, population_id: str) -> Population:
    """The seroprevalence row ``population_id`` (a region, or an age band of one)."""
    rows = {p.id: p for p in knowledge.table("simulation_seroprevalence", SeroprevalenceTable).populations}
    if population_id not in rows:
        raise InputError(f"unknown population {population_id!r}; known: {', '.join(rows)}", field="--population")
    return rows[population_id]


def parameter_rows(knowledge: Knowledge, population_id: str | None = None) -> tuple[Parameter, ...]:
    """The rows of ``simulation_parameters``, with ``population_id``'s seroprevalence if given."""
    rows = knowledge.table("simulation_parameters", ParameterTable).parameters
    if population_id is None:
        return rows
    chosen = population(knowledge, population_id).as_parameter()
    return tuple(chosen if p.id == "seroprevalence" else p for p in rows)


def base_inputs(knowledge: Knowledge, population_id: str | None = None) -> dict[str, float]:
    """Each parameter at its base value."""
    return {p.id: p.base for p in parameter_rows(knowledge, population_id)}


def varied(knowledge: Knowledge, population_id: str | None = None) -> tuple[Parameter, ...]:
    """The rows whose range is not a single value (those the PSA and the tornado vary)."""
    rows = parameter_rows(knowledge, population_id)
    return tuple(p for p in rows if p.low < p.high and p.id != "booking_week")


def check_values(knowledge: Knowledge, changes: Mapping[str, float]) -> None:
    """Refuse a changed value that the knowledge loader would refuse for the row's kind: a
    probability outside 0-1, an odds or risk ratio not above 0, a negative cost, duration or QALY
    loss, or a value that is not a finite number. An unknown id is left to ``override``."""
    rows = {p.id: p for p in parameter_rows(knowledge)}
    for name, value in changes.items():
        row = rows.get(name)
        if row is None:
            continue
        if not math.isfinite(value):
            raise InputError(f"{value} is not a finite number", field=name)
        if row.quantity == "probability" and not 0 <= value <= 1:
            raise InputError(f"a probability: {value} must lie between 0 and 1", field=name)
        if row.quantity in ("odds_ratio", "relative_risk") and value <= 0:
            raise InputError(f"{'an odds' if row.quantity == 'odds_ratio' else 'a relative'} ratio: {value} must be above 0", field=name)
        if row.quantity in ("cost", "qaly") and value < 0:
            raise InputError(f"a {row.quantity}: {value} cannot be negative", field=name)
        unit = "days" if name.endswith("_days") else "weeks"  # a duration's row says its unit
        if row.quantity == "weeks" and value < 0:
            raise InputError(f"a duration: {value:g} {unit} cannot be negative", field=name)
        if name == "amniocentesis_report_days":
            _check_report_days(value, name, report_days_max(knowledge))


def report_days_max(knowledge: Knowledge) -> int:
    """The longest amniocentesis report delay the simulation can follow (probe12 #6): an
    amniocentesis is done up to the day before term (``course.TERM_DAY``), and its report is
    read by the engine, which refuses a gestational age past the pack's plausibility limit
    (44+0): 308 - 279 = 29 days."""
    from cmvcds.knowledge.schemas.core import PlausibilityLimits
    from cmvcds.simulation.course import TERM_DAY

    limits = knowledge.table("plausibility", PlausibilityLimits)
    return limits.gestational_age_max_days - (TERM_DAY - 1)


def _check_report_days(value: float, name: str, longest: int) -> None:
    if not value.is_integer():
        raise InputError(f"{value:g} is not a whole number of days", field=name)
    if value > longest:
        raise InputError(
            f"{value:g} days: an amniocentesis just before term would be reported past the "
            f"plausible end of pregnancy, 44+0 (at most {longest} days)",
            field=name,
        )


def override(inputs: Mapping[str, float], changes: Mapping[str, float]) -> dict[str, float]:
    """``inputs`` with ``changes`` applied; an unknown parameter id is an error."""
    unknown = sorted(set(changes) - set(inputs))
    if unknown:
        raise InputError(f"unknown simulation parameter(s): {', '.join(unknown)}", field="inputs")
    return {**inputs, **changes}


def draw_inputs(knowledge: Knowledge, rng: np.random.Generator, population_id: str | None = None) -> dict[str, float]:
    """One PSA draw: every varied parameter sampled from its distribution, the rest at base."""
    values = base_inputs(knowledge, population_id)
    for row in varied(knowledge, population_id):
        values[row.id] = _sample(row, rng)
    return values


def _sample(row: Parameter, rng: np.random.Generator) -> float:
    if row.distribution == "uniform":
        return float(rng.uniform(row.low, row.high))
    if row.distribution == "triangular":
        return float(rng.triangular(row.low, row.base, row.high))
    if row.distribution == "lognormal":
        sigma = (math.log(row.high) - math.log(row.low)) / (2 * Z95)
        return float(np.clip(math.exp(math.log(row.base) + sigma * rng.standard_normal()), 0, None))
    if row.distribution == "beta":
        return _beta(row, rng)
    return row.base


def _beta(row: Parameter, rng: np.random.Generator) -> float:
    """Method of moments: mean = base, sd = range / (2 × 1.96); a degenerate fit draws uniformly."""
    mean, sd = row.base, (row.high - row.low) / (2 * Z95)
    spread = mean * (1 - mean) / (sd * sd) - 1 if sd > 0 else 0
    if not 0 < mean < 1 or spread <= 0:
        return float(rng.uniform(row.low, row.high))
    return float(rng.beta(mean * spread, (1 - mean) * spread))
