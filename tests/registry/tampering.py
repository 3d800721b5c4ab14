"""What an attacker with the database's credentials (but not the audit key) can do to it.

Every function here works through raw SQL, as someone with a SQL prompt on the registry's
database would: drop the append-only triggers, rewrite the trail and re-hash it with the
published (unkeyed) algorithm, change data tables without going through the application,
or put back an older copy of the database. None of them reads the audit key, the key file
or the checkpoint log, which live outside the database.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

#: The fields the chain hashes, as the published source names them.
HASHED = (
    "seq", "at", "user_id", "username", "site_id", "action", "entity", "entity_id",
    "field", "old_value", "new_value", "reason", "prev_hash",
)  # fmt: skip
GENESIS = "0" * 64

GUARDS = {
    "sqlite": {
        "drop": [
            "DROP TRIGGER IF EXISTS audit_entries_no_update",
            "DROP TRIGGER IF EXISTS audit_entries_no_delete",
            "DROP TRIGGER IF EXISTS audit_head_forward",
            "DROP TRIGGER IF EXISTS audit_head_no_delete",
        ],
        "create": [
            "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE refused'); END",
            "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE refused'); END",
        ],
    },
    "postgresql": {
        "drop": [
            "DROP TRIGGER IF EXISTS audit_entries_no_update ON audit_entries",
            "DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries",
            "DROP TRIGGER IF EXISTS audit_head_forward ON audit_head",
            "DROP TRIGGER IF EXISTS audit_head_no_delete ON audit_head",
        ],
        "create": [
            "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION cmvcds_audit_refuse()",
        ],
    },
}


def drop_guard(connection: Connection) -> None:
    for statement in GUARDS[connection.dialect.name]["drop"]:
        connection.execute(text(statement))


def recreate_guard(connection: Connection) -> None:
    for statement in GUARDS[connection.dialect.name]["create"]:
        connection.execute(text(statement))


def unkeyed_hash(row: dict[str, Any]) -> str:
    """The chain's published algorithm without a key: SHA-256 of the canonical JSON."""
    payload = json.dumps({k: row[k] for k in HASHED}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def trail(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(text("SELECT * FROM audit_entries ORDER BY seq"))
    return [dict(r._mapping) for r in rows]


def rehash_all(connection: Connection) -> None:
    """Recompute every entry's ``prev_hash``/``hash`` and the head, as the attacker can."""
    prev = GENESIS
    last = 0
    for row in trail(connection):
        row["prev_hash"] = prev
        prev = unkeyed_hash(row)
        last = row["seq"]
        connection.execute(
            text("UPDATE audit_entries SET prev_hash = :p, hash = :h WHERE seq = :s"),
            {"p": row["prev_hash"], "h": prev, "s": row["seq"]},
        )
    connection.execute(
        text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"), {"s": last, "h": prev}
    )
    if _has_column(connection, "audit_head", "keyed_from"):
        # claim the whole chain was written before keying existed
        connection.execute(
            text("UPDATE audit_head SET keyed_from = :s WHERE id = 1"), {"s": last + 1}
        )


def _has_column(connection: Connection, table: str, column: str) -> bool:
    from sqlalchemy import inspect

    return column in {c["name"] for c in inspect(connection).get_columns(table)}


def _data_value(connection: Connection, field: str) -> dict[str, Any]:
    row = connection.execute(
        text("SELECT * FROM data_values WHERE field = :f ORDER BY id LIMIT 1"), {"f": field}
    ).one()
    return dict(row._mapping)


def _last_entry_of(connection: Connection, entity_id: str) -> int:
    return int(
        connection.execute(
            text("SELECT max(seq) FROM audit_entries WHERE entity_id = :e"), {"e": entity_id}
        ).scalar_one()
    )


# --- the tampering kinds -------------------------------------------------------------------


def edit_entry_payload(connection: Connection) -> None:
    """Change what an entry says (a value's old → new), nothing else."""
    drop_guard(connection)
    seq = _last_entry_of(connection, _data_value(connection, "amnio_cmv_pcr")["id"])
    connection.execute(
        text("UPDATE audit_entries SET new_value = '0', username = 'pi_a' WHERE seq = :s"),
        {"s": seq},
    )


def rehash_after_edit(connection: Connection) -> None:
    """Rewrite an entry and the data it describes, then re-hash the chain so it links up."""
    drop_guard(connection)
    cell = _data_value(connection, "amnio_cmv_pcr")
    seq = _last_entry_of(connection, cell["id"])
    forged = "0" if cell["value"] == "1" else "1"
    connection.execute(
        text("UPDATE audit_entries SET new_value = :v WHERE seq = :s"), {"v": forged, "s": seq}
    )
    connection.execute(
        text("UPDATE data_values SET value = :v WHERE id = :i"), {"v": forged, "i": cell["id"]}
    )
    rehash_all(connection)


def delete_entry(connection: Connection) -> None:
    """Remove one entry from the middle of the trail."""
    drop_guard(connection)
    middle = int(connection.execute(text("SELECT max(seq) / 2 FROM audit_entries")).scalar_one())
    connection.execute(text("DELETE FROM audit_entries WHERE seq = :s"), {"s": middle})


def append_forged_entry(connection: Connection) -> None:
    """Append an entry in another user's name that links to the head, and make the data match."""
    cell = _data_value(connection, "amnio_cmv_pcr")
    head = connection.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    last = trail(connection)[-1]
    forged = "0" if cell["value"] == "1" else "1"
    row = {
        "seq": head.seq + 1, "at": last["at"], "user_id": last["user_id"], "username": "pi_a",
        "site_id": cell["site_id"], "action": "update", "entity": "data_values",
        "entity_id": cell["id"],
        "field": f"{cell['event']}/{cell['instrument']}#{cell['instance']}/{cell['field']}",
        "old_value": cell["value"], "new_value": forged, "reason": "transcription error",
        "prev_hash": head.hash,
    }  # fmt: skip
    row["hash"] = unkeyed_hash(row)
    columns = ", ".join(row)
    connection.execute(
        text(f"INSERT INTO audit_entries ({columns}) VALUES ({', '.join(':' + k for k in row)})"),
        row,
    )
    connection.execute(
        text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
        {"s": row["seq"], "h": row["hash"]},
    )
    connection.execute(
        text("UPDATE data_values SET value = :v WHERE id = :i"), {"v": forged, "i": cell["id"]}
    )


def reorder_entries(connection: Connection) -> None:
    """Swap the content of two entries (their order in time), then re-hash the chain."""
    drop_guard(connection)
    rows = trail(connection)
    a, b = rows[3], rows[4]
    for target, source in ((a, b), (b, a)):
        values = {k: source[k] for k in HASHED if k not in ("seq", "prev_hash")}
        sets = ", ".join(f"{k} = :{k}" for k in values)
        connection.execute(
            text(f"UPDATE audit_entries SET {sets} WHERE seq = :seq"),
            {**values, "seq": target["seq"]},
        )
    rehash_all(connection)


def wipe_trail(connection: Connection) -> None:
    """Delete every entry and reset the head to the genesis."""
    drop_guard(connection)
    connection.execute(text("DELETE FROM audit_entries"))
    connection.execute(
        text("UPDATE audit_head SET seq = 0, hash = :g WHERE id = 1"), {"g": GENESIS}
    )


def truncate_tail(connection: Connection) -> None:
    """Delete the newest entries and move the head back to the last one kept."""
    drop_guard(connection)
    rows = trail(connection)
    keep = rows[-6]
    connection.execute(text("DELETE FROM audit_entries WHERE seq > :s"), {"s": keep["seq"]})
    connection.execute(
        text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
        {"s": keep["seq"], "h": keep["hash"]},
    )


def edit_data_row(connection: Connection) -> None:
    """Change a CRF value without the application (no audit entry)."""
    cell = _data_value(connection, "amnio_cmv_pcr")
    forged = "0" if cell["value"] == "1" else "1"
    connection.execute(
        text("UPDATE data_values SET value = :v WHERE id = :i"), {"v": forged, "i": cell["id"]}
    )


def insert_data_row(connection: Connection) -> None:
    """Add a CRF value without the application."""
    cell = _data_value(connection, "amnio_cmv_pcr")
    connection.execute(
        text(
            "INSERT INTO data_values (id, subject_id, site_id, event, instrument, instance, field, value) "
            "VALUES ('f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0', :s, :site, 'maternal_diagnosis', 'enrolment', 1, "
            "'fetuses', '2')"
        ),
        {"s": cell["subject_id"], "site": cell["site_id"]},
    )


def delete_data_row(connection: Connection) -> None:
    """Remove a CRF value without the application."""
    cell = _data_value(connection, "amnio_cmv_pcr")
    connection.execute(text("DELETE FROM data_values WHERE id = :i"), {"i": cell["id"]})


def undo_consent_withdrawal(connection: Connection) -> None:
    """Clear a withdrawal of consent without the application (the subject would be exported)."""
    connection.execute(
        text(
            "UPDATE consents SET withdrawn_on = NULL, withdrawal_reason = NULL "
            "WHERE withdrawn_on IS NOT NULL"
        )
    )


def take_over_an_account(connection: Connection) -> None:
    """Give the administrator a password the attacker knows (copy another user's hash)."""
    known = connection.execute(
        text("SELECT password_hash FROM users WHERE username = 'entry_b'")
    ).scalar_one()
    connection.execute(
        text("UPDATE users SET password_hash = :h WHERE username = 'admin'"), {"h": known}
    )


def trigger_off_edit_on(connection: Connection) -> None:
    """Drop the triggers, rewrite an entry and re-hash, then put the triggers back."""
    drop_guard(connection)
    seq = _last_entry_of(connection, _data_value(connection, "amnio_viral_load")["id"])
    connection.execute(
        text("UPDATE audit_entries SET reason = 'as per source document' WHERE seq = :s"),
        {"s": seq},
    )
    rehash_all(connection)
    recreate_guard(connection)


# --- rolling the whole database back -------------------------------------------------------


class Snapshot:
    """A copy of the database taken earlier, put back later (file copy or table contents)."""

    def __init__(self, engine: Engine, url: str, folder: Path) -> None:
        self.engine, self.url = engine, url
        self.copy = folder / "older-copy.sqlite3"
        self.tables: dict[str, list[dict[str, Any]]] = {}
        if engine.dialect.name == "sqlite":
            engine.dispose()
            shutil.copy(self._file(), self.copy)
        else:
            with engine.connect() as connection:
                for table in self._tables(connection):
                    rows = connection.execute(text(f"SELECT * FROM {table}"))
                    self.tables[table] = [dict(r._mapping) for r in rows]

    def _file(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))

    @staticmethod
    def _tables(connection: Connection) -> list[str]:
        from sqlalchemy import inspect

        return [t for t in inspect(connection).get_table_names() if t != "alembic_version"]

    def restore(self) -> None:
        if self.engine.dialect.name == "sqlite":
            self.engine.dispose()
            for suffix in ("-wal", "-shm"):
                Path(str(self._file()) + suffix).unlink(missing_ok=True)
            shutil.copy(self.copy, self._file())
            return
        with self.engine.begin() as connection:
            connection.execute(
                text("SET LOCAL session_replication_role = replica")
            )  # no triggers, no FKs
            for table in self._tables(connection):
                connection.execute(text(f"DELETE FROM {table}"))
            for table, rows in self.tables.items():
                if rows:
                    columns = list(rows[0])
                    connection.execute(
                        text(
                            f"INSERT INTO {table} ({', '.join(columns)}) "
                            f"VALUES ({', '.join(':' + c for c in columns)})"
                        ),
                        rows,
                    )


KINDS: dict[str, Callable[[Connection], None]] = {
    "edit an entry's payload": edit_entry_payload,
    "re-hash the chain after an edit": rehash_after_edit,
    "delete an entry": delete_entry,
    "append a forged entry": append_forged_entry,
    "re-order entries": reorder_entries,
    "wipe the whole trail": wipe_trail,
    "truncate the tail": truncate_tail,
    "edit a data row without audit": edit_data_row,
    "insert a data row without audit": insert_data_row,
    "delete a data row without audit": delete_data_row,
    "undo a consent withdrawal without audit": undo_consent_withdrawal,
    "drop the trigger, edit, recreate it": trigger_off_edit_on,
    "take over an account by its password hash": take_over_an_account,
}
