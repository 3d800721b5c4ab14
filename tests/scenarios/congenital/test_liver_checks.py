"""Vignettes: the monthly transaminase check of an infant's valganciclovir course.

Source: the congenital course calendar (``monitoring/schedules.yaml`` ``cong-liver``: ALT monthly,
Kimberlin 2015 NEJM). No ALT limit that holds or changes the drug is encoded: the Valcyte label and
the sources read give none, and the answer says so.

Baseline: the example ``congenital-long-course`` (valganciclovir since 2025-06-10, assessed
2026-01-05), no ALT. One change: an ALT and its date.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.knowledge import Knowledge

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "congenital-long-course.yaml"
NO_LIMIT = "none encoded: the sources read give no ALT limit that changes the course"


def liver(knowledge: Knowledge, alt: tuple[str, float] | None) -> dict[str, Any]:
    raw = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    if alt is not None:
        raw["observations"].append({"date": alt[0], "code": "alt", "value": alt[1], "unit": "U/L"})
    case = parse_case(raw, knowledge, today=date(2026, 11, 21))
    doc = json.loads(json.dumps(assess(case, knowledge).to_dict(), default=str))
    return dict(doc["findings"]["liver_function"]["valganciclovir"])


@pytest.mark.parametrize(
    ("alt", "want"),
    [
        pytest.param(None, {"alt": None, "due": "no ALT since the course start: the planned liver check is due"},
                     id="no-alt"),
        pytest.param(("2025-12-05", 35), {"alt": "35 U/L", "date": "2025-12-05", "due": "done this month"},
                     id="31-days-ago-done"),
        pytest.param(("2025-12-04", 35), {"alt": "35 U/L", "date": "2025-12-04",
                                          "due": "last ALT 32 days ago: the monthly check is due"},
                     id="32-days-ago-due"),
        pytest.param(("2025-06-09", 35), {"alt": None, "due": "no ALT since the course start: the planned liver check is due"},
                     id="before-the-course-does-not-count"),
        pytest.param(("2026-01-05", 400), {"alt": "400 U/L", "date": "2026-01-05", "due": "done this month"},
                     id="high-alt-shown-no-limit"),
    ],
)  # fmt: skip
def test_monthly_alt_check(
    knowledge: Knowledge, alt: tuple[str, float] | None, want: dict[str, Any]
) -> None:
    assert liver(knowledge, alt) == {**want, "threshold": NO_LIMIT}
