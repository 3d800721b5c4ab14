"""Signed checkpoints of the audit chain's head, kept outside the database.

A keyed chain stops forgery, but not someone with database access deleting the newest entries,
wiping the trail or putting back an older copy of the database: each of those leaves a chain
that verifies. A checkpoint records, at a moment, the head (``seq``, ``hash``) and
``keyed_from``, signed with HMAC-SHA256 under the audit key's checkpoint key, as one JSON line
appended to a log outside the database:

    CMVCDS_AUDIT_CHECKPOINTS   the log's path (or ``--checkpoints``)
    SQLite, not set            ``<database file>.audit-checkpoints.jsonl`` next to it

``cmvcds registry checkpoint`` appends one (after verifying everything, so a tampered state is
never signed); run it on a schedule (cron/systemd timer, e.g. every 5 minutes) and copy the log
off the machine (write-once storage, a log server) for the strongest anchor. ``verify-audit``
then requires that the trail still contains every checkpointed head, unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from cmvcds.errors import AuditIntegrityError, RegistryError
from cmvcds.registry.audit_key import AuditKey
from cmvcds.registry.models.audit import GENESIS, AuditEntry, AuditHead

__all__ = ["CHECKPOINTS_ENV", "Checkpoint", "append", "check", "checkpoint_path", "current", "read"]

CHECKPOINTS_ENV = "CMVCDS_AUDIT_CHECKPOINTS"


@dataclass(frozen=True)
class Checkpoint:
    """The chain head at ``at`` (UTC), signed (``mac``) with the checkpoint key ``key_id``."""

    seq: int
    head: str
    keyed_from: int
    at: str
    key_id: str
    mac: str = ""

    def payload(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k != "mac"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def signed(self, key: AuditKey) -> Checkpoint:
        mac = hmac.new(key.checkpoint, self.payload(), hashlib.sha256).hexdigest()
        return Checkpoint(**{**asdict(self), "mac": mac})


def checkpoint_path(url: str, given: Path | None = None) -> Path | None:
    """The checkpoint log: ``given``, else ``$CMVCDS_AUDIT_CHECKPOINTS``, else next to SQLite."""
    if given is not None:
        return given
    if os.environ.get(CHECKPOINTS_ENV):
        return Path(os.environ[CHECKPOINTS_ENV])
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return Path(parsed.database + ".audit-checkpoints.jsonl")
    return None


def current(session: Session, key: AuditKey, at: str) -> Checkpoint:
    """A signed checkpoint of the head as the database holds it now."""
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash, AuditHead.keyed_from).where(AuditHead.id == 1)
    ).one()
    return Checkpoint(
        seq=int(head.seq), head=str(head.hash), keyed_from=int(head.keyed_from), at=at,
        key_id=key.key_id,
    ).signed(key)  # fmt: skip


def append(path: Path, checkpoint: Checkpoint) -> None:
    """Append ``checkpoint`` to the log at ``path`` (one JSON line, flushed to disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(checkpoint), sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the log (none if it does not exist yet)."""
    if not path.exists():
        return []
    checkpoints = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise RegistryError(f"cannot read the checkpoint log {path}: {error.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            checkpoints.append(Checkpoint(**json.loads(line)))
        except (ValueError, TypeError):
            raise AuditIntegrityError(
                f"checkpoint log {path}, line {number}: not a checkpoint"
            ) from None
    return checkpoints


def check(session: Session, key: AuditKey, checkpoints: list[Checkpoint]) -> list[str]:
    """What the database contradicts in the checkpoints (empty: every checkpoint still holds)."""
    problems: list[str] = []
    head = session.execute(
        select(AuditHead.seq, AuditHead.keyed_from).where(AuditHead.id == 1)
    ).one()
    hashes = _hashes(session, sorted({p.seq for p in checkpoints if 0 < p.seq <= head.seq}))
    for number, point in enumerate(checkpoints, 1):
        where = f"checkpoint {number} ({point.at}, entry {point.seq})"
        if point.key_id != key.key_id:
            problems.append(f"{where} is signed with another audit key ({point.key_id})")
            continue
        if not hmac.compare_digest(point.signed(key).mac, point.mac):
            problems.append(f"{where}: its signature does not verify (the log was edited)")
            continue
        if point.keyed_from != head.keyed_from:
            problems.append(
                f"{where}: keyed entries began at {point.keyed_from}, the database now says "
                f"{head.keyed_from}: keyed entries were passed off as legacy ones"
            )
        if point.seq > head.seq:
            problems.append(
                f"{where}: the trail now ends at entry {head.seq}: entries were removed, the "
                "trail wiped or the database rolled back to an older copy"
            )
            continue
        found = GENESIS if point.seq == 0 else hashes.get(point.seq)
        if found != point.head:
            problems.append(
                f"{where}: the trail's entry {point.seq} is not the one checkpointed: "
                "history was rewritten"
            )
    return problems


def _hashes(session: Session, seqs: list[int]) -> dict[int, str]:
    """The trail's hash of each entry in ``seqs`` (absent ones left out), read in chunks."""
    found: dict[int, str] = {}
    for start in range(0, len(seqs), 1000):
        chunk = seqs[start : start + 1000]
        query = select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(chunk))
        found.update({int(seq): str(value) for seq, value in session.execute(query)})
    return found
