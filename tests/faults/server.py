"""The real application under uvicorn, for the fault-injection tests.

    python server.py DATABASE_URL

Prints ``PORT <n>`` once listening. This is ``cmvcds serve``'s app (``create_app``) with the
registry pages and API; only argon2's cost is lowered, as in the other registry tests.
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from argon2 import PasswordHasher

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.settings import Settings
from cmvcds.registry import security

security.HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)

app = create_app(Settings(database_url=sys.argv[1], demo_cases=False))
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(128)
sys.stdout.write(f"PORT {listener.getsockname()[1]}\n")
sys.stdout.flush()
uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[listener])
