"""The reference profile (core/reference-profile.yaml, ADR 0006): total over every declared setting,
each row valid for its setting and cited; checked when read; listed by the CLI; the site overrides."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app
from cmvcds.domain.results import PathwayResult
from cmvcds.domain.settings import (
    SiteSettings,
    parse_settings,
    reference_profile,
    setting_specs,
    use_setting,
)
from cmvcds.errors import KnowledgeError
from cmvcds.knowledge import DEFAULT_PACK, Knowledge, load_knowledge

runner = CliRunner()


def test_every_declared_setting_has_a_row(knowledge: Knowledge) -> None:
    assert set(reference_profile(knowledge)) == set(setting_specs(knowledge))


def test_each_value_lies_inside_its_guideline_range(knowledge: Knowledge) -> None:
    specs = setting_specs(knowledge)
    for name, row in reference_profile(knowledge).items():
        spec = specs[name]
        assert row.citations, name
        if row.value is None or spec.guideline is None:
            continue
        low, high = spec.guideline
        assert low <= Decimal(row.value) <= high, f"{name} = {row.value} outside {low}–{high}"


def test_the_pre_emptive_thresholds_have_no_default(knowledge: Knowledge) -> None:
    rows = reference_profile(knowledge)
    for name in ("pet_threshold_iu_ml.sot", "pet_threshold_iu_ml.hsct"):
        assert rows[name].value is None and rows[name].knowledge_table is None
        assert "No guideline gives" in rows[name].basis


def test_first_value_of_each_range(knowledge: Knowledge) -> None:
    # AST 2019: D+/R− heart/liver/pancreas 3–6 months, lung 6–12 months; NIH OI: 14–21 days.
    rows = reference_profile(knowledge)
    assert {n: rows[n].value for n in rows if n.startswith("prophylaxis_days.")} == {
        "prophylaxis_days.liver.dpos_rneg": 100,
        "prophylaxis_days.heart.dpos_rneg": 100,
        "prophylaxis_days.pancreas.dpos_rneg": 100,
        "prophylaxis_days.lung.dpos_rneg": 200,
        "prophylaxis_days.lung.rpos": 200,
        "prophylaxis_days.intestine.rpos": 100,
    }
    assert rows["hiv_induction_days"].value == 14
    assert rows["kidney_dpos_rneg_drug"].value == "valganciclovir"


def _write_profile(pack: Path, edit: dict[str, object]) -> None:
    path = pack / "core" / "reference-profile.yaml"
    data = yaml.safe_load(path.read_text())
    for row in data["values"]:
        if row["setting"] == edit["setting"]:
            row.update(edit)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"setting": "hiv_induction_days", "value": 400}, "outside the allowed range"),
        ({"setting": "kidney_dpos_rneg_drug", "value": "ganciclovir"}, "is not one of"),
        ({"setting": "hiv_induction_days", "value": "fourteen"}, "is not a number"),
    ],
)
def test_a_row_that_does_not_fit_its_setting_is_refused(
    tmp_path: Path, edit: dict[str, object], message: str
) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack, ignore=shutil.ignore_patterns("__pycache__"))
    _write_profile(pack, edit)
    with pytest.raises(KnowledgeError, match=message):
        reference_profile(load_knowledge(pack))


def test_site_value_overrides_and_origin_is_recorded(knowledge: Knowledge) -> None:
    site = parse_settings({"hiv_induction_days": 21}, knowledge).with_reference(knowledge)
    result = PathwayResult()
    assert use_setting(result, site, knowledge, "hiv_induction_days") == 21
    assert result.settings_origin["hiv_induction_days"].origin == "site"
    assert use_setting(result, site, knowledge, "hiv_cd4_sustained_months") == 3
    use = result.settings_origin["hiv_cd4_sustained_months"]
    assert (use.origin, use.citations) == ("reference-profile", ("nih-hiv-oi-cmv",))
    assert any(a.code.value == "unverified-fact" for a in result.alerts)  # an unverified row
    assert result.missing == []


def test_no_default_is_one_missing_line(knowledge: Knowledge) -> None:
    result = PathwayResult()
    site = SiteSettings().with_reference(knowledge)
    assert use_setting(result, site, knowledge, "pet_threshold_iu_ml.sot") is None
    assert use_setting(result, site, knowledge, "pet_threshold_iu_ml.sot") is None
    [missing] = result.missing
    assert missing.item == "setting:pet_threshold_iu_ml.sot"
    assert missing.why.startswith("no guideline gives a value for pet_threshold_iu_ml.sot")


def test_cli_lists_every_default_with_its_source(knowledge: Knowledge) -> None:
    result = runner.invoke(app, ["knowledge", "--reference-profile", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    rows = {r["setting"]: r for r in json.loads(result.stdout)["reference_profile"]}
    assert set(rows) == set(setting_specs(knowledge))
    drug = rows["kidney_dpos_rneg_drug"]
    assert (drug["value"], drug["default"]) == ("valganciclovir", "reference-profile")
    assert drug["citations"] == ["humar2010-ajt-impact", "limaye2023-jama-letermovir-kidney"]
    assert all(r["sources"] for r in rows.values())
    assert rows["pet_threshold_iu_ml.sot"]["default"] == "none"
    assert rows["neonatal_anc_hold_below_per_ul"]["default"] == "knowledge-table"
    text = runner.invoke(app, ["knowledge", "--reference-profile"]).stdout
    assert "kidney_dpos_rneg_drug = valganciclovir" in text
    assert "pet_threshold_iu_ml.sot = NO DEFAULT" in text
    assert "hiv_induction_days = 14 days" in text
