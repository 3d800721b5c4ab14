"""The audit key: a secret held outside the database that keys the trail's chain and checkpoints.

Whoever can write to the database could otherwise rewrite the trail and re-hash it with the
published algorithm. With the chain keyed (HMAC-SHA256), forging an entry needs the key, which
lives where a database user cannot read it:

    CMVCDS_AUDIT_KEY         the key itself (at least 32 characters, e.g. 64 hex digits)
    CMVCDS_AUDIT_KEY_FILE    a file holding it (mode 0600, owned by the service)
    SQLite, neither set      ``<database file>.audit-key`` next to the database, generated on
                             first use with mode 0600 (the single-machine demo)

A server database (PostgreSQL) without a configured key refuses to write: an unkeyed trail would
be forgeable by anyone with SQL access. Two derived keys separate the uses (chain entries,
checkpoints); ``key_id`` names a key without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy.engine import make_url

from cmvcds.errors import RegistryError

__all__ = ["KEY_ENV", "KEY_FILE_ENV", "AuditKey", "audit_key", "default_key_file"]

KEY_ENV = "CMVCDS_AUDIT_KEY"
KEY_FILE_ENV = "CMVCDS_AUDIT_KEY_FILE"
MIN_KEY_CHARS = 32


@dataclass(frozen=True)
class AuditKey:
    """The secret and where it came from (``source``, for messages; never the secret)."""

    secret: bytes
    source: str

    def _derive(self, purpose: str) -> bytes:
        return hmac.new(self.secret, purpose.encode(), hashlib.sha256).digest()

    @property
    def chain(self) -> bytes:
        """The key of the chain's entries."""
        return self._derive("cmvcds audit chain v1")

    @property
    def checkpoint(self) -> bytes:
        """The key that signs checkpoints."""
        return self._derive("cmvcds audit checkpoint v1")

    @property
    def key_id(self) -> str:
        """A short public name of the key (to tell 'another key' from 'tampered')."""
        return self._derive("cmvcds audit key id v1").hex()[:16]


def default_key_file(url: str) -> Path | None:
    """``<file>.audit-key`` for an SQLite database file; None for any other database."""
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database + ".audit-key")


def audit_key(url: str) -> AuditKey:
    """The audit key for the database at ``url`` (see the module docstring for the order)."""
    return _cached(url, os.environ.get(KEY_ENV), os.environ.get(KEY_FILE_ENV))


@lru_cache(maxsize=64)
def _cached(url: str, key: str | None, key_file: str | None) -> AuditKey:
    if key:
        return AuditKey(_checked(key.strip(), KEY_ENV), KEY_ENV)
    if key_file:
        return _from_file(Path(key_file), create=False)
    path = default_key_file(url)
    if path is None:
        raise RegistryError(
            f"no audit key: set {KEY_ENV} or {KEY_FILE_ENV} (a secret kept outside the "
            "database; see docs/registry-audit.md) before writing to this database"
        )
    return _from_file(path, create=True)


def _from_file(path: Path, *, create: bool) -> AuditKey:
    if create and not path.exists():
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
    try:
        mode = path.stat().st_mode
        value = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise RegistryError(f"cannot read the audit key file {path}: {error.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise RegistryError(f"the audit key file {path} is readable by others: chmod 600 it")
    return AuditKey(_checked(value, str(path)), str(path))


def _checked(value: str, source: str) -> bytes:
    if len(value) < MIN_KEY_CHARS:
        raise RegistryError(f"the audit key in {source} is shorter than {MIN_KEY_CHARS} characters")
    return value.encode()
