"""The Jinja2 environment of the pages and the printable report (one set of templates)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cmvcds.domain.vocabulary import Outcome, Severity

__all__ = ["STATIC_DIR", "TEMPLATE_DIR", "by_severity", "environment", "render"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def _wording(outcome: str) -> str:
    try:
        return Outcome(outcome).wording
    except ValueError:
        return outcome


def by_severity(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Alerts most urgent first (critical, warning, info), in their order within a severity."""
    order = {Severity.CRITICAL.value: 0, Severity.WARNING.value: 1, Severity.INFO.value: 2}
    return sorted(alerts, key=lambda a: order.get(str(a.get("severity")), 3))


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
    env.filters["by_severity"] = by_severity
    env.globals["extra_nav"] = []  # pages of other parts, added by create_app when mounted
    return env


def render(template: str, /, **context: Any) -> str:
    return environment().get_template(template).render(**context)
