"""The tokens of a SMART launch kept between requests, sealed with the browser's session cookie,
and the notes said while reading the record (who signed in, other patients' resources refused).

The access and refresh tokens are needed again when the clinician asks cmvcds to read the record
anew (the access token may have expired meanwhile: the refresh token renews it). They are stored
encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the session cookie, which the
database never holds (it keeps only the cookie's SHA-256): a copy of the database, a backup or a
log opens no token, and a token opens only while the browser that launched still has its
session. The launch's row key is bound in as associated data, so a sealed value moved to another
row does not open; the notes are bound to the row and the word "notes", so they never open as
tokens nor tokens as notes.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["Tokens", "open_notes", "open_sealed", "seal", "seal_notes"]

_INFO = b"cmvcds smart tokens v1"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_at: float | None  # epoch seconds; None: the server did not say
    refresh_token: str | None
    patient: str
    fhir_user: str | None = None  # who signed in (the checked id_token's fhirUser)


def _key(session: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        session.encode("utf-8")
    )


def _seal(data: bytes, session: str, bound_to: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(session)).encrypt(nonce, data, bound_to.encode("utf-8"))
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def _open(sealed: str, session: str, bound_to: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
        return AESGCM(_key(session)).decrypt(raw[:12], raw[12:], bound_to.encode("utf-8"))
    except (InvalidTag, ValueError):
        return None


def seal(tokens: Tokens, session: str, bound_to: str) -> str:
    """``tokens`` encrypted for ``session``, bound to the row ``bound_to``."""
    return _seal(json.dumps(asdict(tokens)).encode("utf-8"), session, bound_to)


def open_sealed(sealed: str, session: str, bound_to: str) -> Tokens | None:
    """The tokens sealed for ``session`` and ``bound_to``; None if they do not open."""
    data = _open(sealed, session, bound_to)
    try:
        return None if data is None else Tokens(**json.loads(data))
    except (ValueError, TypeError):
        return None


def seal_notes(notes: list[str], session: str, bound_to: str) -> str:
    """``notes`` encrypted for ``session``, bound to the row ``bound_to``."""
    return _seal(
        json.dumps(notes, ensure_ascii=False).encode("utf-8"), session, f"{bound_to} notes"
    )


def open_notes(sealed: str, session: str, bound_to: str) -> list[str] | None:
    """The notes sealed for ``session`` and ``bound_to``; None if they do not open."""
    data = _open(sealed, session, f"{bound_to} notes")
    return None if data is None else [str(line) for line in json.loads(data)]
