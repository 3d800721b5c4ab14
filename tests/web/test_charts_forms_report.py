"""The SVG charts, the form ↔ case mapping and the printable report, as pure functions."""

from __future__ import annotations

import math
import re
from typing import Any

from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app as cli
from cmvcds.adapters.report.html import assessment_html
from cmvcds.adapters.web.charts import pregnancy_timeline, viral_load_chart
from cmvcds.adapters.web.forms import errors_by_field, form_to_raw

DOC: dict[str, Any] = {
    "format": "cmvcds-assessment/1",
    "case_id": "t1",
    "assessed_on": "2026-03-02",
    "knowledge": {"version": "2026.11.0", "sha256": "a" * 64},
    "context": "pregnancy",
    "findings": {
        "gestational_age": "10+2",
        "key_dates": {"20+1": "2026-05-10", "24+0": "2026-06-06", "26+0": "2026-06-20"},
        "maternal_infection": {"onset_window": ["2026-01-11", "2026-02-20"]},
    },
    "decisions": [
        {
            "id": "valacyclovir-prevention",
            "outcome": "recommended",
            "reasons": ["r"],
            "citations": ["aifa2020-648-valacyclovir"],
        }
    ],
    "regimens": [
        {
            "drug": "valacyclovir",
            "indication": "pregnancy-prevention",
            "dose_mg": 2000,
            "every_h": 6,
            "route": "oral",
            "start": "2026-03-02",
            "stop": "2026-06-20",
            "citations": ["aifa2020-648-valacyclovir"],
        }
    ],
    "schedule": [
        {"event": "amniocentesis", "earliest": "2026-05-10", "citations": []},
        {"event": "stop-valacyclovir", "earliest": "2026-06-20", "citations": []},
    ],
    "alerts": [
        {"code": "suspected-resistance", "severity": "warning", "message": "rise", "citations": []}
    ],
    "missing": [],
}


def test_timeline_places_events_on_the_gestational_age_axis() -> None:
    svg = pregnancy_timeline(DOC)
    assert svg is not None and svg.startswith("<svg") and 'data-lmp="2025-12-20"' in svg
    # 2026-05-10 is LMP + 141 days = 20+1; the amniocentesis marker sits on the 20+1 landmark.
    landmark = re.search(r'data-landmark="20\+1"><line class="landmark" x1="([\d.]+)"', svg)
    amnio = re.search(r'data-event="amniocentesis".*?d="M([\d.]+),', svg, re.S)
    assert landmark is not None and amnio is not None
    assert float(amnio.group(1)) == float(landmark.group(1))
    assert "from 2026-05-10 (20+1)" in svg and "2026-06-20 (26+0)" in svg
    assert (
        'data-event="treatment" data-drug="valacyclovir" data-start="2026-03-02" data-stop="2026-06-20"'
        in svg
    )


def test_no_timeline_without_a_dated_pregnancy() -> None:
    assert pregnancy_timeline(DOC | {"findings": {}}) is None


OBSERVATIONS: list[dict[str, Any]] = [
    {"date": "2026-01-01", "code": "cmv_dna", "specimen": "plasma", "value": 1000, "unit": "IU/mL"},
    {
        "date": "2026-01-15",
        "code": "cmv_dna",
        "specimen": "plasma",
        "value": 10000,
        "unit": "IU/mL",
    },
    {
        "date": "2026-01-08",
        "code": "cmv_dna",
        "specimen": "whole_blood",
        "value": 5000,
        "unit": "copies/mL",
    },
    {"date": "2026-01-22", "code": "cmv_dna", "specimen": "plasma", "result": "not_detected"},
    {"date": "2026-01-01", "code": "creatinine", "value": 1.0, "unit": "mg/dL"},
]


def test_viral_load_is_log10_with_one_series_per_specimen_and_unit() -> None:
    case = {
        "observations": OBSERVATIONS,
        "therapy": [
            {"drug": "valganciclovir", "start": "2026-01-02", "dose_mg": 900, "every_h": 12}
        ],
    }
    svg = viral_load_chart(DOC | {"assessed_on": "2026-01-25"}, case)
    assert svg is not None
    assert re.findall(r'data-series="([^"]+)"', svg) == ["plasma|IU/mL", "whole_blood|copies/mL"]
    points = re.findall(r'cy="([\d.]+)" r="4" [^>]*data-date="([\d-]+)"', svg)
    by_date = {d: float(y) for y, d in points}
    decade = by_date["2026-01-01"] - by_date["2026-01-15"]  # 10^3 → 10^4: one decade up
    grid = [
        float(y) for y in re.findall(r'<line class="grid" x1="\d+" x2="\d+" y1="([\d.]+)"', svg)
    ]
    assert math.isclose(decade, grid[0] - grid[1], rel_tol=1e-3)
    assert 'class="point below-limit"' in svg  # not detected drawn on the floor, open
    assert 'data-therapy="valganciclovir" data-start="2026-01-02"' in svg
    assert 'data-marker="nadir" data-date="2026-01-01"' in svg
    assert 'data-marker="alert" data-code="suspected-resistance"' in svg


def test_no_viral_load_chart_without_a_quantified_result() -> None:
    case = {
        "observations": [
            {"date": "2026-01-01", "code": "cmv_dna", "specimen": "urine", "result": "detected"}
        ]
    }
    assert viral_load_chart(DOC, case) is None


KINETICS = {
    "series": [
        {
            "key": "plasma IU/mL",
            "specimen": "plasma",
            "unit": "IU/mL",
            "points": [
                {"day": "2026-08-03", "value": 25000},
                {"day": "2026-08-31", "value": 800},
                {"day": "2026-10-12", "value": 60000},
            ],
            "nadir": {"day": "2026-08-31", "value": 800},
        },
    ],
    "markers": [
        {
            "series": "plasma IU/mL",
            "day": "2026-10-12",
            "code": "suspected-resistance",
            "label": "confirmed rise",
        }
    ],
    "therapy": [
        {
            "drug": "valganciclovir",
            "start": "2026-08-03",
            "stop": "2026-10-20",
            "ongoing": True,
            "dose_mg": 900,
            "every_h": 12,
        }
    ],
}


def test_viral_load_chart_draws_the_kinetics_findings() -> None:
    doc = DOC | {"assessed_on": "2026-10-20", "findings": {"viral_load_kinetics": KINETICS}}
    svg = viral_load_chart(doc, {"observations": []})  # the JSON's chart data, not the case
    assert svg is not None
    assert re.findall(r'data-series="([^"]+)"', svg) == ["plasma|IU/mL"]
    assert 'data-marker="nadir" data-date="2026-08-31"' in svg
    assert 'data-marker="alert" data-code="suspected-resistance" data-date="2026-10-12"' in svg
    assert 'data-therapy="valganciclovir" data-start="2026-08-03"' in svg


def test_form_rows_are_compacted_and_mapped_back() -> None:
    raw, remap = form_to_raw(
        [
            ("id", " c1 "),
            ("observations[2].code", "cmv_igg"),
            ("observations[2].date", "2026-01-01"),
            ("observations[0].code", ""),
            ("ultrasound[1].findings", "ascites, hydrops"),
            ("pregnancy.amniocentesis_declined", "on"),
            ("_csrf", "x"),
        ]
    )
    assert raw == {
        "id": "c1",
        "observations": [{"code": "cmv_igg", "date": "2026-01-01"}],
        "ultrasound": [{"findings": ["ascites", "hydrops"]}],
        "pregnancy": {"amniocentesis_declined": True},
    }
    assert remap.to_form("observations[0].code") == "observations[2].code"
    assert remap.to_form("ultrasound[0].findings[1]") == "ultrasound[1].findings[1]"
    errors = errors_by_field([{"field": "observations[0].date", "message": "m"}], remap)
    assert errors == {"observations[2].date": ["m"]}


def test_report_is_standalone_and_printable() -> None:
    html = assessment_html(DOC)
    assert html.startswith("<!doctype html>")
    assert "@media print" in html and "<style>" in html
    assert '<link rel="stylesheet"' not in html and "<script" not in html
    assert 'data-chart="pregnancy-timeline"' in html
    assert 'href="/knowledge/sources/aifa2020-648-valacyclovir"' in html


def test_cli_assess_html_uses_the_report() -> None:
    result = CliRunner().invoke(cli, ["assess", "examples/pregnancy.yaml", "--format", "html"])
    assert result.exit_code == 0, result.output
    assert (
        "Assessment of case demo-pregnancy-01" in result.output
        and 'data-chart="pregnancy-timeline"' in result.output
    )
