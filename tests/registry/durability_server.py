"""A minimal HTTP server over the registry, for the SIGKILL durability test.

    python durability_server.py DATABASE_URL USERNAME

Prints ``PORT <n>`` once listening. ``POST /write`` with ``{"mrn": ...}`` enrols a mother and
records a form in one transaction and answers 200 only after the commit returned.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cmvcds.registry.access import SYSTEM
from cmvcds.registry.db import Registry
from cmvcds.registry.services import crf, study, subjects

REGISTRY = Registry(sys.argv[1])
with REGISTRY.session(SYSTEM) as _s:
    ACTOR = study.actor_for(study.user_by_name(_s, sys.argv[2]))
CONSENT = subjects.ConsentInput("IS-1", date(2026, 1, 1))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._reply(200, {"ok": True})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        try:
            with REGISTRY.session(ACTOR) as s:
                key = subjects.enrol_mother(
                    s,
                    ACTOR,
                    hospital_record_number=body["mrn"],
                    enrolled_on=date(2026, 1, 1),
                    consent=CONSENT,
                ).pseudonym
                crf.save_form(s, ACTOR, key, "valacyclovir_start", "valacyclovir", {"treated": "1"})
        except Exception as error:  # the client sees a failure and does not count the write
            self._reply(500, {"error": str(error)})
            return
        self._reply(200, {"pseudonym": key})

    def _reply(self, status: int, document: dict[str, object]) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
sys.stdout.write(f"PORT {server.server_address[1]}\n")
sys.stdout.flush()
server.serve_forever()
