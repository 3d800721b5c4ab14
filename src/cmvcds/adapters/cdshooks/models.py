"""CDS Hooks 2.0.1 request, card and response models, with the spec's rules as validators.

A card that breaks the specification cannot be built: its summary must be shorter than 140
characters, its indicator one of info/warning/critical, its source labelled, and a card with
suggestions must say how many may be chosen (``selectionBehavior``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Action",
    "Card",
    "CdsRequest",
    "CdsResponse",
    "Feedback",
    "Link",
    "Source",
    "Suggestion",
]

SUMMARY_LIMIT = 140


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FhirAuthorization(BaseModel):
    model_config = ConfigDict(extra="allow")

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None


class CdsRequest(BaseModel):
    """The body of ``POST /cds-services/{id}``."""

    model_config = ConfigDict(extra="allow")

    hook: str = Field(min_length=1, max_length=100)
    hookInstance: str = Field(min_length=1, max_length=200)
    fhirServer: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _server_with_authorization(self) -> CdsRequest:
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirServer is required when fhirAuthorization is given")
        return self


class Coding(BaseModel):
    model_config = ConfigDict(extra="allow")

    system: str | None = None
    code: str
    display: str | None = None


class Source(_Spec):
    label: str = Field(min_length=1)
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(_Spec):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = Field(
        default=None, description="A relative reference (CDS Hooks 2.0: a string), e.g. Patient/1."
    )


class Suggestion(_Spec):
    label: str = Field(min_length=1)
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: list[Action] = Field(default_factory=list)


class Link(_Spec):
    label: str = Field(min_length=1)
    url: str = Field(min_length=1)
    type: Literal["absolute", "smart"]
    appContext: str | None = None
    autolaunchable: bool | None = None


class OverrideReason(_Spec):
    """A Coding offered as a reason to override a card (CDS Hooks 2.0: ``code`` and ``system``
    required; ``display`` required for the reasons a service offers)."""

    code: str = Field(min_length=1)
    system: str = Field(min_length=1)
    display: str = Field(min_length=1)


class Card(_Spec):
    uuid: str | None = None
    summary: str = Field(min_length=1, max_length=SUMMARY_LIMIT - 1)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[OverrideReason] | None = None
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _selection(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required when a card has suggestions")
        return self


class CdsResponse(_Spec):
    cards: list[Card]
    systemActions: list[Action] | None = None


class FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    card: str = Field(min_length=1)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[dict[str, Any]] | None = None
    overrideReason: dict[str, Any] | None = None
    outcomeTimestamp: str


class Feedback(BaseModel):
    feedback: list[FeedbackItem] = Field(min_length=1)
