"""Kidney D+/R− on letermovir prophylaxis while the site's choice is valganciclovir (debt22: the
running letermovir course was not read; the answer started valganciclovir beside it).

Sources: PREVYMIS US label (kidney transplant D+/R−, 480 mg once daily from day 0–7 through
day 200; Limaye 2023 JAMA, letermovir vs valganciclovir); KDIGO/Kotton 2018 consensus:
valganciclovir prophylaxis to day 200. The pack's setting ``kidney_dpos_rneg_drug`` chooses
between the two for a course not yet started.

Baseline: ``examples/transplant-kidney-dposrneg.yaml`` (transplant 2026-03-01, tacrolimus and
mycophenolate, assessed 2026-03-06); day 200 = 2026-09-17.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from cmvcds.knowledge import Knowledge
from transplant.helpers import decision, regimens, run

EXAMPLE = Path(__file__).parents[3] / "examples" / "transplant-kidney-dposrneg.yaml"


def on(drug: str, dose_mg: float) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    raw.pop("format", None)
    case = copy.deepcopy(raw)
    case["therapy"] = [
        {"drug": drug, "dose_mg": dose_mg, "every_h": 24, "route": "oral",
         "start": "2026-03-01", "indication": "prophylaxis"}
    ]  # fmt: skip
    return case


def shown(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (r["drug"], r["dose_mg"], r["every_h"], str(r["start"]), str(r["stop"]))
        for r in regimens(doc)
    ]


def test_a_running_letermovir_prophylaxis_is_continued_not_doubled(knowledge: Knowledge) -> None:
    doc = run(knowledge, on("letermovir", 480))
    d = decision(doc, "antiviral-prophylaxis")
    assert d["outcome"] == "recommended"
    assert shown(doc) == [("letermovir", 480, 24, "2026-03-01", "2026-09-17")]
    assert any("letermovir prophylaxis running since 2026-03-01" in r for r in d["reasons"])


def test_a_running_valganciclovir_prophylaxis_is_unchanged(knowledge: Knowledge) -> None:
    """The site's own choice: 450 mg once daily (CrCl 40–59 band of the example), dated from
    its start, no extra reason."""
    doc = run(knowledge, on("valganciclovir", 450))
    d = decision(doc, "antiviral-prophylaxis")
    assert [s[0] for s in shown(doc)] == ["valganciclovir"]
    assert shown(doc)[0][3:] == ("2026-03-01", "2026-09-17")
    assert not any("running since" in r for r in d["reasons"])
