"""Simulated pregnancies under CMV screening policies, each run through ``assess()`` (issue 21).

A layer above ``assess`` (ADR 0024): it builds dated cases for simulated women and asks
the same AIFA 648/96 engine a clinician uses what to do on the dates she would be seen.
"""

from cmvcds.simulation.run import SimulationResult, simulate

__all__ = ["SimulationResult", "simulate"]
