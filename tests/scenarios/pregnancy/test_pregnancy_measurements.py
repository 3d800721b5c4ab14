"""Vignettes of issue 14 item 2: a Table 1 measurement decides its sign, named or not (I-12).

Source: AIFA Table 1 (seed 000): severe cerebral signs "ventriculomegaly ≥15 mm", "microcephaly
<3SD", "megacisterna magna >10 mm" exclude in-utero treatment; "isolated moderate (<15 mm)
ventriculomegaly", "hyperechoic intestine of 2nd and 3rd degree", "placentomegaly >40 mm" qualify.
Ventriculomegaly starts at an atrial width of 10 mm (SMFM Consult Series #45, 2018).

Baseline (``fetal_case``): primary infection, positive amniocentesis reported 2026-05-19,
assessed 2026-05-20 (21+4); the latest ultrasound (2026-05-19) carries the finding names and
measurements of each vignette. Before I-12 a measurement without its finding's name was ignored:
``fetal_case(["hepatomegaly"], cisterna_magna_mm=12)`` answered "in-utero treatment recommended".
"""

from __future__ import annotations

from typing import Any

import pytest
from pregnancy_cases import run, summary
from test_pregnancy_fetal import NO_SIGN, fetal, fetal_case

from cmvcds.knowledge import Knowledge

CONTRADICTION = ["contradictory-input"]


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        # the example: a severe cerebral sign given only as a number
        pytest.param(fetal_case(["hepatomegaly"], cisterna_magna_mm=12), fetal("excluded"), id="cisterna-12-unnamed"),
        pytest.param(fetal_case(["hepatomegaly"], cisterna_magna_mm=10.1), fetal("excluded"), id="cisterna-10.1-unnamed"),
        pytest.param(fetal_case(["hepatomegaly"], cisterna_magna_mm=10), fetal("recommended"), id="cisterna-10-unnamed"),
        pytest.param(fetal_case([], ventricle_mm=15), fetal("excluded"), id="ventricle-15-unnamed"),
        pytest.param(fetal_case([], ventricle_mm=14.9), fetal("recommended"), id="ventricle-14.9-unnamed"),
        pytest.param(fetal_case([], ventricle_mm=10), fetal("recommended"), id="ventricle-10-unnamed"),
        pytest.param(fetal_case([], ventricle_mm=9.9), NO_SIGN, id="ventricle-9.9-unnamed-normal"),
        pytest.param(fetal_case(["hepatomegaly"], head_circumference_sd=-3.1), fetal("excluded"), id="hc-minus-3.1-unnamed"),
        pytest.param(fetal_case(["hepatomegaly"], head_circumference_sd=-3), fetal("recommended"), id="hc-minus-3-unnamed"),
        pytest.param(fetal_case([], placenta_mm=41), fetal("recommended"), id="placenta-41-unnamed"),
        pytest.param(fetal_case([], placenta_mm=40), NO_SIGN, id="placenta-40-unnamed"),
        pytest.param(fetal_case([], bowel_grade=2), fetal("recommended"), id="bowel-2-unnamed"),
        pytest.param(fetal_case([], bowel_grade=1), NO_SIGN, id="bowel-1-unnamed"),
        # a second measurement on an examination with a named finding
        pytest.param(fetal_case(["ventriculomegaly"], ventricle_mm=12, cisterna_magna_mm=11), fetal("excluded"),
                     id="named-ventriculomegaly-unnamed-cisterna-11"),
        # a named finding its measurement contradicts
        pytest.param(fetal_case(["ventriculomegaly"], ventricle_mm=9.9),
                     fetal("insufficient_data", alerts=CONTRADICTION, missing=["ultrasound.ventricle_mm"]),
                     id="ventriculomegaly-named-9.9-contradicted"),
        pytest.param(fetal_case(["ventriculomegaly"], ventricle_mm=10), fetal("recommended"), id="ventriculomegaly-named-10"),
        pytest.param(fetal_case(["megacisterna_magna", "hepatomegaly"], cisterna_magna_mm=9),
                     fetal("insufficient_data", alerts=CONTRADICTION, missing=["ultrasound.cisterna_magna_mm"]),
                     id="megacisterna-named-9-could-be-severe"),
        pytest.param(fetal_case(["placentomegaly", "hepatomegaly"], placenta_mm=35),
                     fetal("recommended", alerts=CONTRADICTION), id="placentomegaly-named-35-with-another-sign"),
        # a named finding whose threshold needs a measurement that is absent is asked for
        pytest.param(fetal_case(["megacisterna_magna", "hepatomegaly"]),
                     fetal("insufficient_data", missing=["ultrasound.cisterna_magna_mm"]), id="megacisterna-unmeasured"),
        pytest.param(fetal_case(["microcephaly", "hepatomegaly"]),
                     fetal("insufficient_data", missing=["ultrasound.head_circumference_sd"]), id="microcephaly-unmeasured"),
        pytest.param(fetal_case(["placentomegaly"]),
                     fetal("insufficient_data", missing=["ultrasound.placenta_mm"]), id="placentomegaly-unmeasured"),
        pytest.param(fetal_case(["hyperechogenic_bowel"]),
                     fetal("insufficient_data", missing=["ultrasound.bowel_grade"]), id="bowel-unmeasured"),
    ],
)  # fmt: skip
def test_measurement_decides_its_sign(
    knowledge: Knowledge, raw: dict[str, Any], want: dict[str, Any]
) -> None:
    assert summary(run(knowledge, raw)) == want


def test_unnamed_measurement_is_shown_as_such(knowledge: Knowledge) -> None:
    doc = run(knowledge, fetal_case(["hepatomegaly"], cisterna_magna_mm=12, ventricle_mm=8))
    assert doc["findings"]["fetal_signs"]["fetus"] == {
        "ultrasound": "2026-05-19",
        "extracerebral": ["hepatomegaly"],
        "severe_cerebral": [
            "megacisterna magna > 10 mm (cisterna magna mm 12 mm; measured, finding not named)"
        ],
        "not_counted": ["ventricle mm 8 mm: no ventriculomegaly (ventricle mm ≥ 10 mm needed)"],
    }
    decision = doc["decisions"][1]
    assert decision["outcome"] == "excluded"
    assert "I-12" in decision["rules"]


def test_contradiction_names_both(knowledge: Knowledge) -> None:
    doc = run(knowledge, fetal_case(["ventriculomegaly"], ventricle_mm=9.9))
    alert = next(a for a in doc["alerts"] if a["code"] == "contradictory-input")
    assert "ventriculomegaly is named" in alert["message"]
    assert "ventricle mm 9.9 mm" in alert["message"]
    assert "smfm2018-consult45-ventriculomegaly" in {
        c for d in doc["decisions"] for c in d["citations"]
    }


def test_signs_before_amniocentesis_are_shown_not_acted_on(knowledge: Knowledge) -> None:
    """Before any amniocentesis a Table 1 sign does not decide anything (A6) but is reported."""
    from pregnancy_cases import case, expected

    raw = case(ultrasound=[{"date": "2026-02-27", "findings": [], "cisterna_magna_mm": 12}])
    doc = run(knowledge, raw)
    assert summary(doc) == expected()  # the prevention answer is unchanged
    shown = doc["findings"]["fetal_signs_before_amniocentesis"]
    assert shown["fetus"]["severe_cerebral"] == [
        "megacisterna magna > 10 mm (cisterna magna mm 12 mm; measured, finding not named)"
    ]
    assert "only after CMV DNA is found in amniotic fluid" in shown["note"]
    assert "fetal_signs_before_amniocentesis" not in run(knowledge, case())["findings"]


def test_a_later_different_avidity_is_named_not_dropped(knowledge: Knowledge) -> None:
    """IgG/IgM positive with low avidity on 2026-02-20 (criterion b), high avidity on 2026-02-24:
    the first avidity dates the infection; the later one is named in the reasons (A1)."""
    from pregnancy_cases import case, serology

    rows = serology(
        ("2026-02-20", "cmv_igg", "positive"),
        ("2026-02-20", "cmv_igm", "positive"),
        ("2026-02-20", "cmv_igg_avidity", "low"),
        ("2026-02-24", "cmv_igg_avidity", "high"),
    )
    doc = run(knowledge, case(observations=rows))
    assert summary(doc)["infection"]["criterion"] == "igg-igm-low-avidity"
    prevention = doc["decisions"][0]
    assert any(
        "IgG avidity results differ over time (low on 2026-02-20; high on 2026-02-24)" in r
        for r in prevention["reasons"]
    )
