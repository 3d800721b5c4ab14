"""The answer engine of the shipped pack, built once per test session.

It uses the packaged embedding model when it is installed (the product as shipped); the vectors
of the statements are cached under ``$CMVCDS_CACHE_DIR`` (default ``~/.cache/cmvcds``) so that
only the first run embeds them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cmvcds.adapters.answer_index import build_engine
from cmvcds.engine.answers import AnswerEngine
from cmvcds.knowledge import Knowledge

QUESTIONS = Path(__file__).parent / "questions.yaml"


def question_set() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def engine(knowledge: Knowledge) -> AnswerEngine:
    return build_engine(knowledge)


@pytest.fixture(scope="session")
def bm25_engine(knowledge: Knowledge) -> AnswerEngine:
    return AnswerEngine(knowledge)
