"""``cmvcds registry …``: create and migrate the study database, sites, users, dictionary,
exports and audit verification. ``CMVCDS_DATABASE_URL`` (or ``--db``) picks the database.

The command line acts with the operator's authority (it has the database's credentials);
``export`` and ``analyse`` name the user they act for, and are logged under that user.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cmvcds.adapters.cli.common import emit, exits_on_error, read_bounded
from cmvcds.errors import InputError
from cmvcds.registry.roles import Role

#: A REDCap data dictionary of a few hundred fields is tens of kilobytes; far above that, refuse.
MAX_DICTIONARY_BYTES = 5_000_000

if TYPE_CHECKING:
    from cmvcds.registry.access import Actor
    from cmvcds.registry.db import Registry

app = typer.Typer(help="The observational study database (MEGAL-ITALI).", no_args_is_help=True)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $CMVCDS_DATABASE_URL).")
]


class Format(StrEnum):
    JSON = "json"
    TEXT = "text"


FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]


def open_registry(db: str | None) -> Registry:
    """The registry database, brought to the newest schema first (idempotent), so that no
    command depends on a page having been visited; a database that cannot be reached or
    migrated is one clear line (exit 2), never a raw "no such table"."""
    from sqlalchemy.exc import SQLAlchemyError

    from cmvcds.errors import RegistryError
    from cmvcds.registry import migrate  # alembic loads only for the registry commands
    from cmvcds.registry.db import Registry

    registry = Registry(db)
    try:
        migrate.upgrade(registry.engine)
    except SQLAlchemyError as error:
        url = registry.engine.url.render_as_string(hide_password=True)
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise RegistryError(f"cannot prepare the registry database {url}: {reason}") from None
    return registry


def _say(format: Format, document: dict[str, object], text: str) -> None:
    emit(json.dumps(document, indent=2, default=str) if format is Format.JSON else text)


@app.command("init")
def init(db: DbOpt = None, format: FormatOpt = Format.TEXT) -> None:
    """Create the database schema (or bring it up to date)."""
    from cmvcds.registry import migrate  # alembic loads only for this command
    from cmvcds.registry.db import Registry

    with exits_on_error():
        registry = Registry(db)
        revision = migrate.upgrade(registry.engine)
        _say(format, {"database": registry.engine.url.render_as_string(), "revision": revision},
             f"registry ready at revision {revision}")  # fmt: skip


@app.command("migrate")
def migrate_command(
    db: DbOpt = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    format: FormatOpt = Format.TEXT,
) -> None:
    """Apply schema migrations up to REVISION (the newest by default)."""
    from cmvcds.registry import migrate
    from cmvcds.registry.db import Registry

    with exits_on_error():
        registry = Registry(db)
        before = migrate.current_revision(registry.engine)
        after = migrate.upgrade(registry.engine, revision)
        _say(format, {"from": before, "to": after}, f"migrated from {before or 'empty'} to {after}")


@app.command("create-site")
def create_site(
    code: Annotated[str, typer.Argument(help="Site code, e.g. FI01.")],
    name: Annotated[str, typer.Argument(help="Site name.")],
    db: DbOpt = None,
    format: FormatOpt = Format.TEXT,
) -> None:
    """Add a participating site."""
    from cmvcds.registry.access import SYSTEM
    from cmvcds.registry.services import study

    with exits_on_error(), open_registry(db).session(SYSTEM, reason="create site") as session:
        site = study.create_site(session, SYSTEM, code=code, name=name)
        _say(
            format,
            {"id": site.id, "code": site.code, "name": site.name},
            f"site {site.code} created",
        )


@app.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option("--role", help="The user's role.")],
    site: Annotated[str | None, typer.Option("--site", help="Site code (site roles only).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    db: DbOpt = None,
    format: FormatOpt = Format.TEXT,
) -> None:
    """Add a user; the password is prompted for (or read from stdin), stored as an argon2 hash."""
    from cmvcds.registry.access import SYSTEM
    from cmvcds.registry.services import study

    with exits_on_error():
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        with open_registry(db).session(SYSTEM, reason="create user") as session:
            site_id = study.site_by_code(session, site).id if site else None
            user = study.create_user(
                session, SYSTEM, username=username, password=password, role=role, site_id=site_id
            )
            _say(format, {"id": user.id, "username": user.username, "role": user.role, "site": site},
                 f"user {user.username} ({user.role}) created")  # fmt: skip


@app.command("import-dictionary")
def import_dictionary(
    file: Annotated[Path, typer.Argument(help="REDCap data dictionary (CSV, 18 columns).")],
    version: Annotated[str, typer.Option("--version", help="Version label of this dictionary.")],
    db: DbOpt = None,
    format: FormatOpt = Format.TEXT,
) -> None:
    """Make a REDCap data dictionary the forms in force (validated first)."""
    from cmvcds.registry.access import SYSTEM
    from cmvcds.registry.services import crf

    with exits_on_error():
        data = read_bounded(file, MAX_DICTIONARY_BYTES, "data dictionary", field="FILE")
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")  # REDCap's export may carry a BOM
        except UnicodeDecodeError as error:
            raise InputError(
                f"{file}: not UTF-8 (byte at offset {error.start}); save it as UTF-8", field="FILE"
            ) from None
        with open_registry(db).session(SYSTEM, reason="import dictionary") as session:
            row = crf.import_dictionary(session, SYSTEM, text, version=version)
            _say(
                format,
                {"version": row.version, "sha256": row.sha256},
                f"dictionary {row.version} in force",
            )


@app.command("export-dictionary")
def export_dictionary(db: DbOpt = None) -> None:
    """Print the data dictionary in force (REDCap CSV)."""
    from cmvcds.registry.access import SYSTEM
    from cmvcds.registry.dictionary import dictionary_csv
    from cmvcds.registry.services import crf

    with exits_on_error(), open_registry(db).session(SYSTEM) as session:
        emit(dictionary_csv(crf.current_crf(session).fields))


def _acting(db: str | None, username: str) -> tuple[Registry, Actor]:
    """The database and the user a command acts for."""
    from cmvcds.registry.access import SYSTEM
    from cmvcds.registry.services import study

    registry = open_registry(db)
    with registry.session(SYSTEM) as session:
        return registry, study.actor_for(study.user_by_name(session, username))


@app.command("export")
def export(
    user: Annotated[str, typer.Option("--user", help="The user the export is made for (logged).")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files into.")],
    export_format: Annotated[
        str, typer.Option("--export-format", help="redcap | odm | fhir.")
    ] = "redcap",
    profile: Annotated[
        str, typer.Option("--profile", help="site (identified) | central (pseudonymised).")
    ] = "central",
    dates: Annotated[
        str,
        typer.Option(
            "--dates",
            help="central profile: coarsen (month of the shifted date) | shift (secret offset).",
        ),
    ] = "coarsen",
    db: DbOpt = None,
    format: FormatOpt = Format.TEXT,
) -> None:
    """Export the study data (withdrawn subjects excluded); the export is logged."""
    from cmvcds.registry import exports

    with exits_on_error():
        registry, actor = _acting(db, user)
        with registry.session(actor) as session:
            result = exports.export(session, actor, fmt=export_format, profile=profile, dates=dates)
        out.mkdir(parents=True, exist_ok=True)
        for name, content in result.files.items():
            (out / name).write_text(content, encoding="utf-8")
        _say(format, {"files": sorted(result.files), "subjects": result.subjects, "sha256": result.sha256},
             f"{result.subjects} subjects exported to {out} ({', '.join(sorted(result.files))})")  # fmt: skip


@app.command("analyse")
def analyse(
    user: Annotated[str, typer.Option("--user", help="The user the analysis is run for.")],
    analysis: Annotated[
        str | None, typer.Option("--analysis", help="One analysis id (default: all).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """The study's outcome analyses (OR with Woolf CI, χ², Fisher) and the safety table, as JSON."""
    from cmvcds.registry import analytics  # scipy loads only for this command

    with exits_on_error():
        registry, actor = _acting(db, user)
        with registry.session(actor) as session:
            if analysis:
                document: dict[str, object] = {
                    "analyses": [analytics.analyse(session, actor, analysis)]
                }
            else:
                document = {"analyses": analytics.analyse_all(session, actor),
                            "safety": analytics.safety_table(session, actor)}  # fmt: skip
        emit(json.dumps(document, indent=2, default=str))


CheckpointsOpt = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="Checkpoint log outside the database (default: $CMVCDS_AUDIT_CHECKPOINTS, "
        "or <sqlite file>.audit-checkpoints.jsonl).",
    ),
]


@app.command("verify-audit")
def verify_audit(
    db: DbOpt = None, checkpoints: CheckpointsOpt = None, format: FormatOpt = Format.TEXT
) -> None:
    """Verify the audit chain, the signed checkpoints and the data tables; exit 1 listing every problem.

    The data tables are checked against the replay of the trail.
    """
    from cmvcds.registry import checkpoints as anchors
    from cmvcds.registry.access import SYSTEM
    from cmvcds.registry.audit_verify import verify_registry

    with exits_on_error():
        registry = open_registry(db)
        log = anchors.checkpoint_path(registry.url, checkpoints)
        with registry.session(SYSTEM) as session:
            result = verify_registry(session, log)
        result.raise_if_broken()
        anchored = (
            f"{result.checkpoints} checkpoint(s) in {log} hold"
            if result.checkpoints
            else "not anchored yet: no checkpoint (run `cmvcds registry checkpoint` on a schedule)"
        )
        _say(format, {"verified": True, "entries": result.entries, "head": result.head,
                      "keyed_from": result.keyed_from, "checkpoints": result.checkpoints,
                      "checkpoint_log": result.checkpoint_log, "data_tables_match_trail": True},
             f"audit trail verified: {result.entries} entries, head {result.head[:16]}…, "
             f"data tables match the trail; {anchored}")  # fmt: skip


@app.command("checkpoint")
def checkpoint(
    db: DbOpt = None,
    checkpoints: CheckpointsOpt = None,
    every: Annotated[
        float,
        typer.Option("--every", help="Keep running: one checkpoint every SECONDS (0: once)."),
    ] = 0,
    count: Annotated[
        int, typer.Option("--count", help="With --every: stop after N checkpoints (0: never).")
    ] = 0,
    format: FormatOpt = Format.TEXT,
) -> None:
    """Verify everything, then append a signed checkpoint of the audit head to the log outside the database.

    Run it on a schedule (cron, or --every 300 as a service): it is what detects a wiped trail or a rolled-back copy. Exit 1 as soon as a check fails.
    """
    import time

    from cmvcds.registry import checkpoints as anchors
    from cmvcds.registry.access import SYSTEM
    from cmvcds.registry.audit_verify import take_checkpoint

    with exits_on_error():
        registry = open_registry(db)
        log = anchors.checkpoint_path(registry.url, checkpoints)
        if log is None:
            raise InputError(
                f"where should the checkpoint go? give --checkpoints or set {anchors.CHECKPOINTS_ENV}",
                field="--checkpoints",
            )
        taken = 0
        while True:
            with registry.session(SYSTEM) as session:
                point = take_checkpoint(session, log)
            taken += 1
            _say(format, {"seq": point.seq, "head": point.head, "at": point.at, "log": str(log)},
                 f"checkpoint of entry {point.seq} (head {point.head[:16]}…) appended to {log}")  # fmt: skip
            if every <= 0 or (count and taken >= count):
                break
            time.sleep(every)


@app.command("purge-sessions")
def purge_sessions(db: DbOpt = None, format: FormatOpt = Format.TEXT) -> None:
    """Delete expired web sessions (logins also purge them)."""
    from cmvcds.registry import security
    from cmvcds.registry.access import SYSTEM

    with exits_on_error(), open_registry(db).session(SYSTEM) as session:
        removed = security.purge_expired_sessions(session, now=datetime.now(UTC))
        _say(format, {"purged": removed}, f"{removed} expired session(s) deleted")


@app.command("deactivate-user")
def deactivate_user(
    username: Annotated[str, typer.Argument(help="Login name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")],
    reactivate: Annotated[
        bool, typer.Option("--reactivate", help="Let a deactivated user log in again.")
    ] = False,
    db: DbOpt = None,
    format: FormatOpt = Format.TEXT,
) -> None:
    """Stop a user logging in (their open sessions end at once); the user and history are kept."""
    from cmvcds.registry.access import SYSTEM
    from cmvcds.registry.services import study

    with exits_on_error(), open_registry(db).session(SYSTEM, reason=reason) as session:
        user = study.set_user_active(session, SYSTEM, username, active=reactivate)
        state = "active" if user.active else "deactivated"
        _say(format, {"username": user.username, "active": user.active},
             f"user {user.username} {state}")  # fmt: skip
