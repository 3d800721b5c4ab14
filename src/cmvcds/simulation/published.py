"""Published screening models (``simulation_published``): their inputs, and the comparison of
the simulator's count with theirs (docs/simulation.md)."""

from __future__ import annotations

from typing import Any

from cmvcds.errors import InputError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.simulation import PublishedModel, PublishedModels
from cmvcds.simulation.run import SimulationResult

__all__ = ["compare", "model", "published_inputs", "simulated"]


def model(knowledge: Knowledge, model_id: str) -> PublishedModel:
    """The published model ``model_id``."""
    models = {m.id: m for m in knowledge.table("simulation_published", PublishedModels).models}
    if model_id not in models:
        raise InputError(f"unknown published model {model_id!r}; known: {', '.join(models)}", field="--published")
    return models[model_id]


def published_inputs(knowledge: Knowledge, model_id: str) -> dict[str, float]:
    """The base-case inputs that ``model_id`` states."""
    return dict(model(knowledge, model_id).inputs)


def compare(found: float, published: PublishedModel) -> dict[str, Any]:
    """The simulator's count beside the paper's, per ``published.per``, within the tolerance?"""
    relative = abs(found - published.reported) / published.reported
    return {
        "model": published.id,
        "outcome": published.outcome,
        "reported": published.reported,
        "simulated": round(found, 1),
        "relative_difference": round(relative, 3),
        "tolerance": published.tolerance,
        "within_tolerance": relative <= published.tolerance,
        "verified": published.verified,
    }


def simulated(result: SimulationResult, published: PublishedModel) -> float:
    """The simulator's count for ``published.outcome`` under ``published.strategy``, per
    ``published.per`` pregnancies (averted counts are against ``result``'s reference; any other
    count under a strategy other than the paper's reference, minus the reference's)."""
    difference = not published.outcome.endswith("_averted") and published.reference != published.strategy
    for name in (published.strategy, published.reference) if difference else (published.strategy,):
        if name not in result.base:
            raise InputError(f"{published.id} is compared under {name!r}: add it to --strategies", field="--strategies")
    value = float(result.base[published.strategy][published.outcome] or 0.0)
    if difference:
        value -= float(result.base[published.reference][published.outcome] or 0.0)
    return value * published.per / 100_000
