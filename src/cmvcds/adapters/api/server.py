"""The HTTP protocol ``cmvcds serve`` runs: uvicorn's h11, with TCP_NODELAY on every connection.

With ``--workers`` uvicorn binds the listening socket itself (protocol number 0), and asyncio then
leaves Nagle's algorithm on for accepted connections: a response written in two segments waits
for the client's delayed ACK (40 ms on Linux). Setting TCP_NODELAY per connection removes that.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["PROTOCOL", "NoDelayH11Protocol"]

PROTOCOL = "cmvcds.adapters.api.server:NoDelayH11Protocol"


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # pragma: no cover - a socket that refuses the option keeps working
                pass
        super().connection_made(transport)
