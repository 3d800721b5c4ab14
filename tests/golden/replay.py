"""Replay one golden input through the parser and the engine: the JSON text of its assessment.

The text is ``json.dumps`` of ``Assessment.to_dict()`` (key order kept, numbers as the engine
typed them), so the golden comparison sees a change of value, of type (``2`` vs ``2.0``) and of
order. The knowledge stamp is left out: a new pack version alone is not a changed answer.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from cmvcds.assess import assess
from cmvcds.domain.case import parse_case
from cmvcds.domain.settings import SiteSettings
from cmvcds.knowledge import Knowledge
from tests.golden.codec import decode


def assessment_text(record: dict[str, Any], knowledge: Knowledge) -> str:
    """The assessment of ``record`` (``case``, ``today``, optional ``on`` and ``settings``)."""
    case = parse_case(decode(record["case"]), knowledge, today=date.fromisoformat(record["today"]))
    settings = None
    if record.get("settings") is not None:
        raw = record["settings"]
        settings = SiteSettings(values=decode(raw["values"]), origin=raw["origin"])
    on = date.fromisoformat(record["on"]) if record.get("on") else None
    document = assess(case, knowledge, on, settings).to_dict()
    document.pop("knowledge", None)
    return json.dumps(document, default=str, ensure_ascii=False)
