"""SOT: CMV DNA detected without a quantity, and DNA below the LLOQ on prophylaxis (fixr23a 5).

Sources: Kotton 2018 SOT consensus (at or above the centre's pre-emptive threshold
treatment-dose therapy replaces prophylaxis; no routine viral load while prophylaxis runs;
a load below the quantification limit reaches no threshold); January 2022 (lung: DNA below the
LLOQ stays below it or clears in ~98 %). Vignette: debt23's kidney D+/R− (transplant
2026-10-10), plasma CMV DNA on 2026-11-19, site threshold 1,000 IU/mL.
"""

from __future__ import annotations

import copy
from typing import Any

from cmvcds.knowledge import Knowledge
from transplant.helpers import decision, events, regimens, run
from transplant.test_debt23_sot_unclassified_dnaemia import VIGNETTE


def _case(result: str, course: bool) -> dict[str, Any]:
    raw = copy.deepcopy(VIGNETTE)
    raw["observations"][1] = {
        "date": "2026-11-19",
        "code": "cmv_dna",
        "specimen": "plasma",
        "result": result,
    }
    if not course:
        del raw["therapy"]
    return raw


def test_detected_without_a_quantity_and_no_course_is_not_started(knowledge: Knowledge) -> None:
    document = run(knowledge, _case("detected", course=False))
    prophylaxis = decision(document, "antiviral-prophylaxis")
    preemptive = decision(document, "preemptive-therapy")
    said = " ".join(prophylaxis["reasons"] + preemptive["reasons"])
    assert prophylaxis["outcome"] == "insufficient_data"
    assert "start now" not in said
    assert "quantitative result is needed" in said
    assert "no routine viral-load monitoring" not in said
    assert "repeat a quantitative test" in said
    assert "2026-11-20" in events(document, "viral-load")  # the test, today
    assert "cmv_dna" in [m["item"] for m in document["missing"]]
    assert not regimens(document, "valganciclovir")
    assert "valcyte-us-label" in prophylaxis["citations"]  # the dose said has its source


def test_detected_without_a_quantity_on_prophylaxis_asks_for_the_quantity(
    knowledge: Knowledge,
) -> None:
    document = run(knowledge, _case("detected", course=True))
    prophylaxis = decision(document, "antiviral-prophylaxis")
    assert prophylaxis["outcome"] == "insufficient_data"
    assert any("if it continues, 900 mg every 24 h" in r for r in prophylaxis["reasons"])
    assert "2026-11-20" in events(document, "viral-load")


def test_below_the_lloq_on_prophylaxis_continues_with_a_repeat(knowledge: Knowledge) -> None:
    document = run(knowledge, _case("detected_below_lloq", course=True))
    assert decision(document, "antiviral-prophylaxis")["outcome"] == "recommended"
    preemptive = decision(document, "preemptive-therapy")
    said = " ".join(preemptive["reasons"])
    assert "below the LLOQ" in said and "continue prophylaxis" in said
    assert "no routine viral-load monitoring" not in said
    assert "2026-11-27" in events(document, "viral-load")  # one weekly interval after 11-20
