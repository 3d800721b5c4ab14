"""``cmvcds serve``: the web app, the REST API and the CDS Hooks services on one port.

By default an SQLite database in the working directory and the demo cases of ``examples/``;
``CMVCDS_DATABASE_URL`` (and the other ``CMVCDS_*`` settings) choose otherwise.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cmvcds.adapters.cli.common import exits_on_error


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Interface to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8000).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="Worker processes.")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load the demo cases of examples/.")
    ] = True,
    demo_registry: Annotated[
        bool,
        typer.Option(
            "--demo-registry",
            help="Add the demo registry users (README; for make run, never a real site).",
        ),
    ] = False,
) -> None:
    """Start the web app and API (http://127.0.0.1:8000 by default).

    The registry schema is brought up to date before the server starts (the same migrations as
    ``cmvcds registry init``), so that no page or command finds a database without its tables.
    """
    import os

    import uvicorn

    from cmvcds.adapters.api.server import PROTOCOL
    from cmvcds.adapters.api.service import Clinic
    from cmvcds.adapters.api.settings import Settings

    with exits_on_error():
        if not demo:
            os.environ["CMVCDS_DEMO_CASES"] = "false"
        settings = Settings()
        Clinic.from_settings(
            settings
        )  # a bad knowledge pack or site settings file: one line, exit 2
        _prepare_registry(settings.database_url, demo_registry)
        typer.echo(
            f"cmvcds: http://{host or settings.host}:{port or settings.port}/  (database {settings.database_url})",
            err=True,
        )
        uvicorn.run(
            "cmvcds.adapters.api.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            http=PROTOCOL,
            log_level="warning",
            access_log=False,
        )


def _prepare_registry(url: str, demo_users: bool) -> None:
    """Migrate the registry; with ``demo_users``, add the demo site and users (README)."""
    from cmvcds.adapters.cli.registry import open_registry

    registry = open_registry(url)
    try:
        if demo_users:
            from cmvcds.adapters.web.demo_registry import (
                DEMO_PASSWORD,
                DEMO_USERS,
                seed_demo_registry,
            )

            seed_demo_registry(registry)
            names = ", ".join(DEMO_USERS.values())
            typer.echo(
                f"cmvcds: demo registry users {names} (password {DEMO_PASSWORD!r}); "
                "log in at /registry/login",
                err=True,
            )
    finally:
        registry.dispose()
