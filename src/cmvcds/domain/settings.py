"""Institutional settings: the choices a site makes inside what the guidelines allow.

A pre-emptive viral-load threshold, one or two negative tests to stop treatment, the point chosen
inside a guideline's duration range: these are never hidden constants. A site writes them in a
settings file (``CMVCDS_SETTINGS`` or ``--settings FILE``); every knowledge table whose schema is
``core:SettingCatalogue`` declares the settings that exist, their type and ranges. A decision
that needs a setting the site has not chosen answers ``insufficient_data`` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from cmvcds.domain.results import Alert, Missing, PathwayResult
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.errors import SettingsError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import SettingCatalogue, SettingSpec

__all__ = ["SiteSettings", "parse_settings", "setting_specs", "use_setting"]


@dataclass(frozen=True)
class SiteSettings:
    """The settings a site chose (validated), and where they came from."""

    values: Mapping[str, Any] = field(default_factory=dict)
    origin: str | None = None

    def get(self, name: str) -> Any | None:
        return self.values.get(name)


def setting_specs(knowledge: Knowledge) -> dict[str, SettingSpec]:
    """Every setting declared by any ``core:SettingCatalogue`` table of the pack."""
    specs: dict[str, SettingSpec] = {}
    for table in knowledge.tables.values():
        if isinstance(table, SettingCatalogue):
            for spec in table.settings:
                specs[spec.name] = spec
    return specs


def parse_settings(raw: Any, knowledge: Knowledge, origin: str | None = None) -> SiteSettings:
    """Validate a settings mapping (flat ``name: value``) against the declared settings."""
    if raw is None:
        return SiteSettings(origin=origin)
    if not isinstance(raw, dict):
        raise SettingsError("a settings file must map setting names to values", field=origin)
    specs = setting_specs(knowledge)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        spec = specs.get(str(name))
        if spec is None:
            known = ", ".join(sorted(specs)) or "none"
            raise SettingsError(f"unknown setting (known: {known})", field=str(name))
        values[spec.name] = _coerce(spec, value)
    return SiteSettings(values=values, origin=origin)


def _coerce(spec: SettingSpec, value: Any) -> Any:
    if spec.type == "boolean":
        if not isinstance(value, bool):
            raise SettingsError(f"{value!r} is not true or false", field=spec.name)
        return value
    if spec.type == "choice":
        if value not in spec.choices:
            raise SettingsError(
                f"{value!r} is not one of {', '.join(spec.choices)}", field=spec.name
            )
        return value
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise SettingsError(f"{value!r} is not a number", field=spec.name) from None
    if spec.type == "integer" and number != number.to_integral_value():
        raise SettingsError(f"{value!r} is not a whole number", field=spec.name)
    if spec.allowed and not spec.allowed[0] <= number <= spec.allowed[1]:
        low, high = spec.allowed
        raise SettingsError(
            f"{value} is outside the allowed range {low}–{high} {spec.unit or ''}".rstrip(),
            field=spec.name,
        )
    return int(number) if spec.type == "integer" else number


def use_setting(
    result: PathwayResult, settings: SiteSettings, knowledge: Knowledge, name: str
) -> Any | None:
    """The site's value of ``name``, recorded in ``result.settings_used``; None when unset.

    An unset setting adds a ``missing`` item naming it (the caller answers insufficient_data);
    a value outside the guideline's range adds a ``config-range`` alert citing the guideline.
    """
    spec = setting_specs(knowledge).get(name)
    if spec is None:
        raise SettingsError("the knowledge pack declares no such setting", field=name)
    value = settings.get(name)
    if value is None:
        result.missing.append(
            Missing(
                f"setting:{name}",
                f"the site has not set {name} ({spec.description}); add it to the settings file",
            )
        )
        return None
    result.settings_used[name] = value
    if spec.guideline and isinstance(value, Decimal | int):
        low, high = spec.guideline
        if not low <= Decimal(value) <= high:
            result.alerts.append(
                Alert(
                    AlertCode.CONFIG_RANGE,
                    Severity.WARNING,
                    f"Site setting {name} = {value} lies outside the guideline range {low}–{high}"
                    f"{' ' + spec.unit if spec.unit else ''}.",
                    spec.citations,
                )
            )
    return value
