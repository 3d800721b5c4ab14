"""Every vignette under tests/scenarios: each decision cites at least one source, also when it ends
in insufficient_data or specialist_review (issue 14 item 7).

An autouse fixture wraps the real ``Assessment.to_dict`` (and the congenital pathway, which its
vignettes call directly) so that every answer a vignette produces is checked; nothing is replaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cmvcds.assess import Assessment
from cmvcds.domain.results import PathwayResult
from cmvcds.engine import congenital


def _cites(decisions: Any) -> None:
    for d in decisions:
        citations = d["citations"] if isinstance(d, dict) else d.citations
        ident, outcome = (
            (d["id"], d["outcome"]) if isinstance(d, dict) else (d.id.value, d.outcome.value)
        )
        assert citations, f"decision {ident} ({outcome}) cites no source"


@pytest.fixture(autouse=True)
def every_decision_cites(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    to_dict = Assessment.to_dict
    evaluate = congenital.evaluate

    def checked_to_dict(self: Assessment) -> dict[str, Any]:
        document = to_dict(self)
        _cites(document["decisions"])
        return document

    def checked_evaluate(*args: Any, **kwargs: Any) -> PathwayResult:
        result = evaluate(*args, **kwargs)
        _cites(result.decisions)
        return result

    monkeypatch.setattr(Assessment, "to_dict", checked_to_dict)
    monkeypatch.setattr(congenital, "evaluate", checked_evaluate)
    yield
