"""Everything ``cmvcds registry verify-audit`` checks, and the checkpoint it may then sign.

Three checks, each catching what the others cannot (docs/registry-audit.md):

1. the keyed chain (``audit.verify``): a forged, edited, re-hashed, re-ordered or removed entry;
2. the checkpoints outside the database (``checkpoints.check``): a wiped or truncated trail, a
   database rolled back to an older copy, keyed entries passed off as legacy ones;
3. the replay of the trail against the data tables (``audit_replay``): data changed, inserted
   or deleted without an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from cmvcds.errors import AuditIntegrityError
from cmvcds.registry import audit, checkpoints
from cmvcds.registry.audit_replay import replay_problems
from cmvcds.registry.db import READ_SNAPSHOT

__all__ = ["Verification", "take_checkpoint", "verify_registry"]


@dataclass(frozen=True)
class Verification:
    """What was verified, and every problem found (none: the registry is intact)."""

    entries: int
    head: str
    keyed_from: int
    checkpoints: int
    checkpoint_log: str | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_broken(self) -> None:
        if self.problems:
            error = AuditIntegrityError(self.problems[0])
            error.problems = [  # type: ignore[attr-defined]
                "the audit trail does not verify:",
                *self.problems,
            ]
            raise error


def verify_registry(session: Session, checkpoint_log: Path | None) -> Verification:
    """Run the three checks on the database of ``session``; the log None: no checkpoints yet.

    The checks read one snapshot (PostgreSQL: REPEATABLE READ; SQLite: a deferred read
    transaction in WAL mode), so writers committing meanwhile never make the trail and the tables
    disagree, and are never held up by the verification.
    """
    if not session.in_transaction():
        dialect = session.get_bind().dialect.name
        session.connection(
            execution_options={"isolation_level": "REPEATABLE READ"}
            if dialect == "postgresql"
            else {READ_SNAPSHOT: True}  # SQLite WAL: a deferred BEGIN reads one snapshot
        )
    key = audit.session_key(session)
    problems: list[str] = []
    try:
        report = audit.verify(session)
        entries, head, keyed_from = report.entries, report.head, report.keyed_from
    except AuditIntegrityError as error:
        problems.append(str(error))
        entries, head, keyed_from = 0, "", 0
    points = checkpoints.read(checkpoint_log) if checkpoint_log else []
    problems.extend(checkpoints.check(session, key, points))
    problems.extend(replay_problems(session))
    return Verification(
        entries=entries, head=head, keyed_from=keyed_from, checkpoints=len(points),
        checkpoint_log=str(checkpoint_log) if checkpoint_log else None, problems=tuple(problems),
    )  # fmt: skip


def take_checkpoint(
    session: Session, checkpoint_log: Path, *, now: datetime | None = None
) -> checkpoints.Checkpoint:
    """Verify everything, then append a signed checkpoint of the head (never of a broken trail)."""
    verify_registry(session, checkpoint_log).raise_if_broken()
    at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    point = checkpoints.current(session, audit.session_key(session), at)
    checkpoints.append(checkpoint_log, point)
    return point
