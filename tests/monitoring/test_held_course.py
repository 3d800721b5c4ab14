"""A course held for toxicity in an adult (issue 14 item 4): hold → recheck → restart.

Baseline: test_monitoring.TRANSPLANT (kidney recipient, valganciclovir 900 mg q12h from 2025-09-01)
with the course stopped on 2025-09-10 for neutropenia (``stop_reason: held_toxicity``; ANC 400/µL on
2025-09-09), assessed 2025-09-15. The valganciclovir label's limit: not given with ANC < 500/µL; the
label names no separate restart level, so a count of at least 500 allows the restart (as for an
active course).
"""

from __future__ import annotations

import copy
from typing import Any

from cmvcds.domain.vocabulary import AlertCode, ScheduleEvent, Severity

from .test_monitoring import TRANSPLANT, Run, alerts, run

__all__ = ["run"]


def held(*anc: tuple[str, int]) -> dict[str, Any]:
    raw = copy.deepcopy(TRANSPLANT)
    raw["assessed_on"] = "2025-09-15"
    raw["observations"] = [o for o in raw["observations"] if o["date"] <= "2025-09-15"] + [
        {"date": day, "code": "anc", "value": value, "unit": "cells/uL"} for day, value in anc
    ]
    raw["therapy"][1].update(stop="2025-09-10", stop_reason="held_toxicity")
    return raw


def test_held_without_a_new_count_is_rechecked_today(run: Run) -> None:
    """The hold's cause (ANC 400 on the day before) must recover; platelets and Hb, never measured,
    are not named as toxicities (probe11 W1)."""
    result = run(held(("2025-09-09", 400)))
    [alert] = [a for a in alerts(result, AlertCode.NEUTROPENIA) if "held since" in a.message]
    assert alert.severity == Severity.WARNING
    assert alert.message == (
        "valganciclovir: held since 2025-09-10 for toxicity, not completed: no ANC since the hold "
        "(last 400 cells/uL on 2025-09-09; restart above 500). Keep holding and recheck the blood "
        "count on 2025-09-15; restart when it recovers."
    )
    assert any(
        s.event == ScheduleEvent.BLOOD_COUNT and str(s.earliest) == "2025-09-15"
        for s in result.schedule
    )


def test_held_recovered_restarts_at_full_dose(run: Run) -> None:
    """ANC 600 ≥ 500 with platelets and Hb above the label's limits, all since the hold."""
    raw = held(("2025-09-09", 400), ("2025-09-14", 600))
    raw["observations"] += [
        {"date": "2025-09-14", "code": "platelets", "value": 150000, "unit": "cells/uL"},
        {"date": "2025-09-14", "code": "hemoglobin", "value": 12, "unit": "g/dL"},
    ]
    result = run(raw)
    [alert] = [a for a in alerts(result, AlertCode.NEUTROPENIA) if "held since" in a.message]
    assert alert.severity == Severity.INFO
    assert alert.message == (
        "valganciclovir: held since 2025-09-10 for toxicity; ANC 600 cells/uL on 2025-09-14 is above 500: "
        "restart at full dose."
    )
    assert alerts(result, AlertCode.SOURCES_DIFFER) == []


def test_held_then_resumed_is_not_followed_as_held(run: Run) -> None:
    raw = held(("2025-09-09", 400), ("2025-09-13", 900))
    raw["therapy"].append(
        {
            "drug": "valganciclovir",
            "dose_mg": 900,
            "every_h": 12,
            "route": "oral",
            "start": "2025-09-14",
            "indication": "induction",
        }
    )
    result = run(raw)
    assert not any("held since 2025-09-10" in a.message for a in result.alerts)
