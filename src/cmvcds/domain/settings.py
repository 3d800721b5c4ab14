"""Institutional settings: the choices a site makes inside what the guidelines allow.

A pre-emptive viral-load threshold, one or two negative tests to stop treatment, the point chosen
inside a guideline's duration range: these are never hidden constants. A site writes them in a
settings file (``CMVCDS_SETTINGS`` or ``--settings FILE``); every knowledge table whose schema is
``core:SettingCatalogue`` declares the settings that exist, their type and ranges.

Where the site has not chosen, the pack's reference profile (``core/reference-profile.yaml``, the
guideline's preferred value, cited) fills the setting and the output says so (``SettingUse``
with origin ``reference-profile``). Only a setting no guideline gives a value for (the pre-emptive
viral-load threshold) stays unset: it is named in one ``missing`` line (ADR 0006).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from cmvcds.domain.results import Alert, Missing, PathwayResult, SettingUse
from cmvcds.domain.vocabulary import AlertCode, Severity
from cmvcds.errors import KnowledgeError, SettingsError
from cmvcds.knowledge import Knowledge
from cmvcds.knowledge.schemas.core import (
    ReferenceProfile,
    ReferenceValue,
    SettingCatalogue,
    SettingSpec,
)

__all__ = [
    "REFERENCE_PROFILE",
    "SITE",
    "SiteSettings",
    "parse_settings",
    "reference_profile",
    "setting_specs",
    "use_setting",
]

#: Where a setting's value came from, as the output names it.
SITE = "site"
REFERENCE_PROFILE = "reference-profile"


@dataclass(frozen=True)
class SiteSettings:
    """The settings a site chose (validated), where they came from, and the reference profile
    that fills the settings the site left unset (empty until ``with_reference``)."""

    values: Mapping[str, Any] = field(default_factory=dict)
    origin: str | None = None
    reference: Mapping[str, ReferenceValue] = field(default_factory=dict)

    def get(self, name: str) -> Any | None:
        """The site's value of ``name``, else the reference profile's, else None."""
        value = self.values.get(name)
        if value is None and name in self.reference:
            return self.reference[name].value
        return value

    def origin_of(self, name: str) -> str | None:
        """``site`` or ``reference-profile`` for a setting that has a value; None otherwise."""
        if self.values.get(name) is not None:
            return SITE
        row = self.reference.get(name)
        return REFERENCE_PROFILE if row is not None and row.value is not None else None

    def with_reference(self, knowledge: Knowledge) -> SiteSettings:
        """These settings, with the pack's reference profile under them."""
        return SiteSettings(self.values, self.origin, reference_profile(knowledge))


def reference_profile(knowledge: Knowledge) -> Mapping[str, ReferenceValue]:
    """The reference profile by setting name, each row checked against its setting's declaration
    (a value of the wrong type or outside the allowed range is a knowledge error); built once
    per pack and shared (read-only)."""
    return knowledge.derived(_reference_profile)


def _reference_profile(knowledge: Knowledge) -> Mapping[str, ReferenceValue]:
    specs = setting_specs(knowledge)
    rows: dict[str, ReferenceValue] = {}
    for row in knowledge.table("reference_profile", ReferenceProfile).values:
        spec = specs.get(row.setting)
        if spec is None:
            raise KnowledgeError(f"reference_profile: {row.setting}: no such setting is declared")
        if row.value is not None:
            try:
                coerced = _coerce(spec, row.value)
            except SettingsError as error:
                raise KnowledgeError(f"reference_profile: {row.setting}: {error}") from None
            row = row.model_copy(update={"value": coerced})
        if row.knowledge_table is not None and row.knowledge_table not in knowledge.tables:
            raise KnowledgeError(
                f"reference_profile: {row.setting}: no table {row.knowledge_table!r}"
            )
        rows[row.setting] = row
    return MappingProxyType(rows)


def setting_specs(knowledge: Knowledge) -> Mapping[str, SettingSpec]:
    """Every setting declared by any ``core:SettingCatalogue`` table of the pack (built once per
    pack and shared, read-only)."""
    return knowledge.derived(_setting_specs)


def _setting_specs(knowledge: Knowledge) -> Mapping[str, SettingSpec]:
    specs: dict[str, SettingSpec] = {}
    for name in knowledge.names_of(SettingCatalogue):
        for spec in knowledge.table(name, SettingCatalogue).settings:
            specs[spec.name] = spec
    return MappingProxyType(specs)


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
    """The value of ``name`` (the site's, else the reference profile's), recorded in
    ``result.settings_used`` and, with its origin and citations, in ``result.settings_origin``;
    None when neither gives one.

    An unset setting adds one ``missing`` line naming it (saying so when no guideline gives a
    value); a value outside the guideline's range adds a ``config-range`` alert citing the guideline.
    """
    spec = setting_specs(knowledge).get(name)
    if spec is None:
        raise SettingsError("the knowledge pack declares no such setting", field=name)
    value = settings.get(name)
    row = settings.reference.get(name)
    if value is None:
        if row is not None and row.knowledge_table is None:
            why = (
                f"no guideline gives a value for {name} ({spec.description}); the site must "
                "choose it in its settings file"
            )
        else:
            why = f"the site has not set {name} ({spec.description}); add it to the settings file"
        missing = Missing(f"setting:{name}", why)
        if missing not in result.missing:
            result.missing.append(missing)
        return None
    result.settings_used[name] = value
    if settings.origin_of(name) == SITE or row is None:
        result.settings_origin[name] = SettingUse(name, value, SITE, ())
    else:
        result.settings_origin[name] = SettingUse(
            name, value, REFERENCE_PROFILE, row.citations, row.basis
        )
        if not row.verified:
            # brief for clinicians: the research note stays in the pack (cmvcds knowledge
            # --reference-profile, the source's provenance)
            result.flag_unverified(f"reference-profile value {name} = {value}", row.citations)
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
