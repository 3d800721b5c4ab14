"""Totals of a simulated cohort per strategy, and what they mean per 100,000 pregnancies.

Costs and QALY losses are linear in the counts (a price enters once, multiplied by a count), so
the costs are monotone in every price, as the Hypothesis invariant checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, fields

from cmvcds.simulation.course import Course

__all__ = ["COUNTS", "add", "cost", "qaly_loss", "summarise"]

COUNTS = tuple(f.name for f in fields(Course))
PER = 100_000

#: Cost parameter behind each count (treatment_days: one day of valacyclovir 8 g/day).
PRICES = {
    "igg_igm": "cost_igg_igm",
    "avidity": "cost_avidity",
    "dna": "cost_dna_pcr",
    "amniocenteses": "cost_amniocentesis",
    "treatment_days": "cost_valacyclovir_day",
    "counselled": "cost_counselling",
    "specialist": "cost_specialist_visit",
    "terminations": "cost_termination",
    "symptomatic": "cost_neonatal_treatment",
    "sequelae": "cost_sequelae_lifetime",
}


def add(total: dict[str, int], course: Course) -> None:
    """Add one woman's course to ``total``."""
    for name, value in asdict(course).items():
        total[name] = total.get(name, 0) + value


def merge(parts: Iterable[Mapping[str, Mapping[str, int]]]) -> dict[str, dict[str, int]]:
    """Sum per-strategy totals of several chunks."""
    merged: dict[str, dict[str, int]] = {}
    for part in parts:
        for strategy, totals in part.items():
            into = merged.setdefault(strategy, dict.fromkeys(COUNTS, 0))
            for name, value in totals.items():
                into[name] += value
    return merged


def cost(totals: Mapping[str, float], inputs: Mapping[str, float]) -> float:
    """Total cost in euros of these counts."""
    return sum(totals.get(count, 0) * inputs[price] for count, price in PRICES.items())


def qaly_loss(totals: Mapping[str, float], inputs: Mapping[str, float]) -> float:
    """QALYs lost by the children: sequelae, and symptomatic newborns without sequelae."""
    return totals.get("sequelae", 0) * inputs["qaly_loss_sequelae"] + totals.get(
        "symptomatic_only", 0
    ) * inputs["qaly_loss_symptomatic"]


def summarise(
    merged: Mapping[str, Mapping[str, int]], n: int, inputs: Mapping[str, float], reference: str
) -> dict[str, dict[str, float | None]]:
    """Per 100,000 pregnancies for each strategy, with the differences from ``reference``."""
    scale = PER / n
    out: dict[str, dict[str, float | None]] = {}
    ref = merged[reference]
    for strategy, t in merged.items():
        row: dict[str, float | None] = {
            "primary_infections": t["primary"] * scale,
            "primary_detected": t["detected"] * scale,
            "women_treated": t["treated"] * scale,
            "in_utero_treated": t["in_utero"] * scale,
            "amniocenteses": t["amniocenteses"] * scale,
            "fetal_infections": t["fetal_infection"] * scale,
            "late_infections": t["late_infection"] * scale,
            "symptomatic_newborns": t["symptomatic"] * scale,
            "sequelae": t["sequelae"] * scale,
            "terminations": t["terminations"] * scale,
            "procedure_losses": t["losses"] * scale,
            "serology_tests": t["igg_igm"] * scale,
            "valacyclovir_days": t["treatment_days"] * scale,
            "cost_eur": cost(t, inputs) * scale,
            "qaly_loss": qaly_loss(t, inputs) * scale,
        }
        averted = (ref["fetal_infection"] - t["fetal_infection"]) * scale
        row["fetal_infections_averted"] = averted
        row["symptomatic_averted"] = (ref["symptomatic"] - t["symptomatic"]) * scale
        row["sequelae_averted"] = (ref["sequelae"] - t["sequelae"]) * scale
        row["nns"] = PER / averted if averted > 0 else None
        treated = row["women_treated"]
        row["nnt"] = treated / averted if averted > 0 and treated else None
        d_cost = (cost(t, inputs) - cost(ref, inputs)) * scale
        d_qaly = (qaly_loss(ref, inputs) - qaly_loss(t, inputs)) * scale
        row["incremental_cost_eur"] = d_cost
        row["qalys_gained"] = d_qaly
        row["icer_eur_per_qaly"] = d_cost / d_qaly if d_qaly > 0 else None
        out[strategy] = row
    return out
