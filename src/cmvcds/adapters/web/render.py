"""The Jinja2 environment of the pages and the printable report (one set of templates)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cmvcds.domain.vocabulary import Outcome

__all__ = ["STATIC_DIR", "TEMPLATE_DIR", "environment", "render"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def _wording(outcome: str) -> str:
    try:
        return Outcome(outcome).wording
    except ValueError:
        return outcome


def _label(code: str) -> str:
    return str(code).replace("_", " ").replace("-", " ")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(("html", "svg")),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["wording"] = _wording
    env.filters["label"] = _label
    env.globals["extra_nav"] = []  # pages of other parts, added by create_app when mounted
    return env


def render(template: str, /, **context: Any) -> str:
    return environment().get_template(template).render(**context)
