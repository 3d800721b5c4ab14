"""The "Ask" page and ``POST /api/v1/ask``: answers to clinical questions from cited knowledge.

Mounted by ``cmvcds.adapters.api.app`` through ``router``; every answer comes from the same
``AnswerEngine`` as ``cmvcds ask``.
"""

from cmvcds.adapters.web.ask.routes import router

__all__ = ["router"]
