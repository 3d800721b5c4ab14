"""The HTTP protocol ``cmvcds serve`` runs: uvicorn's h11, with TCP_NODELAY on every connection.

With ``--workers`` uvicorn binds the listening socket itself (protocol number 0), and asyncio then
leaves Nagle's algorithm on for accepted connections: a response written in two segments waits
for the client's delayed ACK (40 ms on Linux). Setting TCP_NODELAY per connection removes that.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["PROTOCOL", "NoDelayH11Protocol"]


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # a socket refusing the option still works
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


PROTOCOL = "cmvcds.adapters.api.server:NoDelayH11Protocol"

if importlib.util.find_spec("httptools") is not None:  # the faster C parser, when installed
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            _no_delay(transport)
            super().connection_made(transport)

    PROTOCOL = "cmvcds.adapters.api.server:NoDelayHttpToolsProtocol"
