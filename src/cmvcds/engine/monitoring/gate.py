"""The monitoring pathway's entry: a case with no therapy and no viral-load series has nothing
to monitor, and is answered without importing the monitoring engine.

Why: every case runs the monitoring pathway (``assess.ALWAYS``), but its 15 modules, the
viral-load kinetics and the knowledge classes they name (the monitoring and transplant schemas)
cost ~10 % of a cold ``cmvcds assess`` (issue 20, item 3), and most pregnancies carry neither.
The pathway's own first answer is an empty result for a case with no course and no viral-load
series (``pathway.evaluate``); a series is made of quantified ``cmv_dna`` results
(``kinetics.viral_load_series``), so a case with no therapy and no ``cmv_dna`` value has none.
Every other case goes to the pathway, which decides as before.
``tests/monitoring/test_gate.py`` checks that observations without a ``cmv_dna`` value never
make a series.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from cmvcds.domain.results import PathwayResult

if TYPE_CHECKING:
    from cmvcds.domain.case import Case
    from cmvcds.domain.settings import SiteSettings
    from cmvcds.knowledge import Knowledge

__all__ = ["evaluate"]


def evaluate(case: Case, knowledge: Knowledge, on: date, settings: SiteSettings) -> PathwayResult:
    """The monitoring pathway's result for ``case`` on ``on``: empty when there is no therapy
    and no quantified viral load, else ``pathway.evaluate``'s (imported on first such case)."""
    if not case.therapy and not any(
        o.code == "cmv_dna" and o.value is not None for o in case.observations
    ):
        return PathwayResult()
    from cmvcds.engine.monitoring.pathway import evaluate as monitor

    return monitor(case, knowledge, on, settings)
