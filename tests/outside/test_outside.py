"""Outside vignettes (issue 14): clinical cases transcribed from published case reports, guideline
worked examples and drug-label examples, each compared with what its source says is correct.

A failing vignette carries ``xfail_reason`` (a defect report); it is marked
``xfail(strict=True)`` so that a fix makes it XPASS and the marker must then be removed.
See tests/outside/README.md for the first score.
"""

from __future__ import annotations

import pytest

from cmvcds.knowledge import Knowledge
from tests.outside.runner import Vignette, load_vignettes, run

VIGNETTES = load_vignettes()


def _param(v: Vignette) -> object:
    marks = []
    if v.data.get("xfail_reason"):
        marks.append(pytest.mark.xfail(strict=True, reason=str(v.data["xfail_reason"])))
    return pytest.param(v, id=v.name, marks=marks)


def test_enough_vignettes() -> None:
    assert len(VIGNETTES) >= 60


@pytest.mark.parametrize("vignette", [_param(v) for v in VIGNETTES])
def test_vignette(
    vignette: Vignette,
    knowledge: Knowledge,
    outside_results: dict[str, tuple[str, list[str] | None]],
) -> None:
    outside_results[vignette.name] = (vignette.group, None)
    try:
        problems = run(vignette, knowledge)
    except Exception as error:  # the engine refused a case the source describes
        problems = [f"{type(error).__name__}: {error}"]
    outside_results[vignette.name] = (vignette.group, problems)
    assert not problems, "\n".join(problems)


def test_every_vignette_names_a_traceable_source() -> None:
    """Each source carries a DOI, PMID, URL, label or seed reference that a reader can follow."""
    markers = ("doi", "pmid", "http", "setid", "prescribing information", "seeds/")
    for v in VIGNETTES:
        text = str(v.data["source"]).lower()
        assert any(m in text for m in markers), v.name


def test_the_comparison_can_fail(knowledge: Knowledge) -> None:
    """A wrong outcome, a missing regimen and a forbidden alert are each reported."""
    vignette = next(v for v in VIGNETTES if v.name.startswith("p01-"))
    wrong = Vignette(
        vignette.path,
        {
            **vignette.data,
            "expected": {
                "decisions": {"valacyclovir-prevention": "not_indicated"},
                "regimens": [{"drug": "valacyclovir", "dose_mg": 1000}],
                "alerts": ["renal-exclusion"],
            },
        },
    )
    problems = run(wrong, knowledge)
    assert len(problems) == 3, problems
