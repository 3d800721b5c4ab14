"""The one exception tree of cmvcds.

Library code raises these and never prints; the CLI maps them to exit codes (2 for bad input,
1 for anything else) and the API to ``application/problem+json`` (422 for bad input).

    CmvcdsError                      anything cmvcds refuses or cannot do
    ├── InputError                   the caller's input is wrong (exit code 2, HTTP 422)
    │   ├── CaseFormatError          a case breaks the case format: unknown key, bad type, a unit
    │   │                            not accepted, an implausible value or an impossible date —
    │   │                            ``problems`` lists every one, field first
    │   ├── DocumentError            a YAML/JSON document refused before it is read as a case:
    │   │                            an alias, a duplicate key, not UTF-8, too large or too deep
    │   ├── SequenceInputError       a FASTA, VCF or mutation list that cannot be read
    │   └── SettingsError            the site settings file is malformed or out of range
    ├── NotEligible                  a document that exists only for an eligible case (the Law
    │                                648/96 dossier, its consent form) asked for one that is not:
    │                                the outcomes, their reasons and what is missing (exit code 3)
    ├── KnowledgeError               the knowledge pack is malformed (file, row and field named)
    └── RegistryError                the study database refused an operation
        ├── AccessDenied             the user may not see or change that record
        └── AuditIntegrityError      the audit trail does not verify

Every message names the value at fault, where it was found and the accepted form, so that a
clinician can correct the input without reading code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "AccessDenied",
    "AuditIntegrityError",
    "CaseFormatError",
    "CmvcdsError",
    "DocumentError",
    "InputError",
    "KnowledgeError",
    "NotEligible",
    "RegistryError",
    "SequenceInputError",
    "SettingsError",
]


class CmvcdsError(Exception):
    """Base of every error cmvcds raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InputError(CmvcdsError):
    """The input is wrong; the user can fix it."""

    exit_code = 2


class CaseFormatError(InputError):
    """A case breaks the cmvcds-case/1 format."""

    def named_as_sent(
        self, names: Mapping[str, str], *, made_by_us: Sequence[str] = ()
    ) -> CaseFormatError:
        """This error with its problems named by the fields the user sent, where a caller built
        the case from other fields (the dose calculator's ``patient.creatinine`` or
        ``--creatinine`` is the case's ``observations[0].value``): a field is renamed by its
        whole path, else by the item it lies in. A problem with a field in ``made_by_us`` (a
        value the caller filled in, e.g. today's date) is left out when another problem
        remains: it only repeats one the user can act on (probe8 R3). ``names`` maps a case
        path (``observations[0].unit``) or an item (``observations[0]``, for any of its parts)
        to the field the user sent."""
        lines: list[str] = list(getattr(self, "problems", None) or [str(self)])
        said = []
        for line in lines:
            field, _, message = line.partition(": ")
            if field in made_by_us and len(lines) > 1:
                continue
            item = field.split(".")[0]
            shown = names.get(field) or names.get(item) or field
            said.append(f"{shown}: {message}" if message else line)
        refused = CaseFormatError(said[0])
        refused.problems = said  # type: ignore[attr-defined]
        return refused


class DocumentError(InputError):
    """A YAML/JSON document refused by ``cmvcds.domain.documents``: one line saying why."""


class SequenceInputError(InputError):
    """A FASTA, VCF or mutation list that cannot be interpreted."""


class NotEligible(CmvcdsError):
    """A document made only for an eligible case was asked for a case that is not eligible:
    ``problems`` says the outcome of each decision, its reasons and what is missing."""

    exit_code = 3

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = [message, *problems]


class KnowledgeError(CmvcdsError):
    """The knowledge pack is malformed; the message names file, row and field."""


class SettingsError(InputError):
    """The site settings file is malformed or a value lies outside its allowed range."""


class RegistryError(CmvcdsError):
    """The study database refused an operation."""


class AccessDenied(RegistryError):
    """The user's role or site does not allow this."""


class AuditIntegrityError(RegistryError):
    """The audit trail's hash chain is broken."""
