"""The pregnancy tables of a knowledge pack, fetched once per evaluation and typed."""

from __future__ import annotations

from dataclasses import dataclass

from cmvcds.engine.pregnancy.fetal import SignIndex, sign_index
from cmvcds.engine.pregnancy.infection import PeriodBounds
from cmvcds.engine.pregnancy.monitoring import MonitoringPlan, monitoring_plan
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.pregnancy import (
    DatingRules,
    FetalSignTable,
    MonitoringTable,
    PregnancyProtocol,
    RuleBook,
    TimingTable,
)

__all__ = ["PregnancyTables", "pregnancy_tables"]


@dataclass(frozen=True)
class PregnancyTables:
    """The knowledge tables of the pregnancy pathway, read from the pack once per pack."""

    protocol: PregnancyProtocol
    signs: SignIndex  # Table 1, indexed (fetal.py)
    timing: TimingTable
    monitoring: MonitoringPlan  # Table 2 by course (monitoring.py)
    rules: RuleBook
    dating: DatingRules
    #: the protocol's own landmarks (w+d, days), earliest first: the key dates of every case,
    #: so that a signed-off change of the protocol moves them everywhere
    landmarks: tuple[tuple[str, int], ...]
    #: the default window (I-6), when no site setting moves it (None: the pack gives no bounds)
    periconceptional: PeriodBounds | None


def pregnancy_tables(knowledge: Knowledge) -> PregnancyTables:
    """The AIFA 648/96 tables, checked and gathered once per pack (``Knowledge.derived``; it
    was six look-ups and a new object per case, issue 20)."""
    return knowledge.derived(_pregnancy_tables)


def _pregnancy_tables(knowledge: Knowledge) -> PregnancyTables:
    protocol = knowledge.table("pregnancy_protocol", PregnancyProtocol)
    limits = (
        protocol.amniocentesis_not_before,
        protocol.prevention_onset_before,
        protocol.stop_without_amniocentesis,
    )
    timing = knowledge.table("pregnancy_timing", TimingTable)
    window = timing.periconceptional
    return PregnancyTables(
        protocol=protocol,
        signs=sign_index(knowledge.table("pregnancy_fetal_signs", FetalSignTable)),
        timing=timing,
        monitoring=monitoring_plan(knowledge.table("pregnancy_monitoring", MonitoringTable)),
        rules=knowledge.table("pregnancy_rules", RuleBook),
        dating=knowledge.table("pregnancy_dating", DatingRules),
        periconceptional=(
            PeriodBounds(window.from_day, window.to_day)
            if window.from_day is not None and window.to_day is not None
            else None
        ),
        landmarks=tuple(sorted(((limit.ga, limit.days) for limit in limits), key=_days)),
    )


def _days(landmark: tuple[str, int]) -> int:
    return landmark[1]
