"""The pregnancy tables of a knowledge pack, fetched once per evaluation and typed."""

from __future__ import annotations

from dataclasses import dataclass

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
    protocol: PregnancyProtocol
    signs: FetalSignTable
    timing: TimingTable
    monitoring: MonitoringPlan  # Table 2 by course (monitoring.py)
    rules: RuleBook
    dating: DatingRules


def pregnancy_tables(knowledge: Knowledge) -> PregnancyTables:
    """The AIFA 648/96 tables, checked and gathered once per pack (``Knowledge.derived``; it
    was six look-ups and a new object per case, issue 20)."""
    return knowledge.derived(_pregnancy_tables)


def _pregnancy_tables(knowledge: Knowledge) -> PregnancyTables:
    return PregnancyTables(
        protocol=knowledge.table("pregnancy_protocol", PregnancyProtocol),
        signs=knowledge.table("pregnancy_fetal_signs", FetalSignTable),
        timing=knowledge.table("pregnancy_timing", TimingTable),
        monitoring=monitoring_plan(knowledge.table("pregnancy_monitoring", MonitoringTable)),
        rules=knowledge.table("pregnancy_rules", RuleBook),
        dating=knowledge.table("pregnancy_dating", DatingRules),
    )
