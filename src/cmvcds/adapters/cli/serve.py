"""``cmvcds serve``: the web app, the REST API and the CDS Hooks services on one port.

By default an SQLite database in the working directory; ``CMVCDS_DATABASE_URL`` (and the other
``CMVCDS_*`` settings) choose otherwise. Without ``--demo`` the clinician's pages need a registry
login and CDS Hooks calls a signed JWT; ``--demo`` opens the pages (with a banner) and loads the
cases of ``examples/``, ``--insecure-no-jwt`` drops the JWT — both for a local demo only.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cmvcds.adapters.cli.common import exits_on_error
from cmvcds.errors import InputError


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Interface to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8000).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="Worker processes.")] = 1,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo/--no-demo",
            help="The local demo: open pages (with a banner) and the cases of examples/. "
            "Without it, the clinician's pages need a registry login.",
        ),
    ] = False,
    insecure_no_jwt: Annotated[
        bool,
        typer.Option(
            "--insecure-no-jwt",
            help="Accept CDS Hooks calls without a signed JWT (a local demo only).",
        ),
    ] = False,
    demo_registry: Annotated[
        bool,
        typer.Option(
            "--demo-registry",
            help="With --demo: add the demo registry users (README; make run, never a real site).",
        ),
    ] = False,
) -> None:
    """Start the web app and API (http://127.0.0.1:8000 by default).

    The registry schema is brought up to date before the server starts (the same migrations as 'cmvcds registry init'), so that no page or command finds a database without its tables.
    """
    import os

    import uvicorn

    from cmvcds.adapters.api.logs import LOGGING
    from cmvcds.adapters.api.server import PROTOCOL
    from cmvcds.adapters.api.service import Clinic
    from cmvcds.adapters.api.settings import Settings

    with exits_on_error():
        if demo_registry and not demo:
            raise InputError(
                "--demo-registry adds users with a published password: only with --demo",
                field="--demo-registry",
            )
        if demo:
            os.environ["CMVCDS_MODE"] = "demo"
        else:
            os.environ["CMVCDS_DEMO_CASES"] = "false"
            os.environ.setdefault("CMVCDS_MODE", "production")
        if insecure_no_jwt:  # the workers read the environment: every one of them is told
            os.environ["CMVCDS_CDS_INSECURE_NO_JWT"] = "true"
        settings = Settings()
        Clinic.from_settings(
            settings
        )  # a bad knowledge pack or site settings file: one line, exit 2
        _prepare_registry(settings.database_url, demo_registry)
        typer.echo(
            f"cmvcds: http://{host or settings.host}:{port or settings.port}/  (database {settings.database_url})",
            err=True,
        )
        typer.echo(
            "cmvcds: DEMO MODE: the clinician's pages are open to anyone who reaches this port."
            if settings.mode == "demo"
            else "cmvcds: the clinician's pages need a registry login "
            f"({', '.join(settings.clinical_roles)}).",
            err=True,
        )
        if settings.cds_insecure_no_jwt:
            typer.echo(
                "cmvcds: WARNING: CDS Hooks JWT verification is OFF (--insecure-no-jwt); "
                "anyone who reaches this port can call the CDS services. Local demo only.",
                err=True,
            )
        elif not settings.cds_trusted_issuers:
            typer.echo(
                "cmvcds: CDS Hooks calls are refused until CMVCDS_CDS_TRUSTED_ISSUERS names "
                "a client (or --insecure-no-jwt for a local demo).",
                err=True,
            )
        options: dict[str, Any] = {
            "factory": True,
            "host": host or settings.host,
            "port": port or settings.port,
            "http": PROTOCOL,
            "log_config": LOGGING,  # JSON lines; one per request from the app's RequestLog
            "log_level": "warning",
            "access_log": False,
        }
        if workers == 1:
            uvicorn.run(APP, **options)
        else:
            _run_workers(uvicorn.Config(APP, workers=workers, **options))


#: The app each worker builds (``create_app`` from the environment's settings).
APP = "cmvcds.adapters.api.app:served_app"


def _run_workers(config: Any) -> None:
    """uvicorn's supervisor of ``config.workers`` processes, each accepting on its own
    ``SO_REUSEPORT`` socket so that the kernel spreads connections over them (uvicorn's shared
    socket left a keep-alive pool on one worker: ``adapters/api/listener.py``, ADR 0032-cds22)."""
    from uvicorn.supervisors import Multiprocess

    from cmvcds.adapters.api.listener import bind_listener

    listener = bind_listener(config.host, config.port, config.workers)
    try:
        Multiprocess(config, sockets=[listener]).run()
    except KeyboardInterrupt:  # as uvicorn.run: the supervisor has stopped its workers
        pass
    finally:
        listener.close()


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
