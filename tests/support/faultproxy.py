"""A small threaded HTTP proxy on loopback that injects faults, then forwards to moto or a registry.

Each ``Fault`` matches an operation (the ``X-Amz-Target`` suffix, the whole target, or a query ``Action``;
for other requests, such as a registry's, ``"<METHOD> <path>"``; None matches every request), or a regular
expression over it (``pattern``), and is served ``times`` times (None: forever): a 400 ThrottlingException,
a 500, a connection reset with no response, or any canned response. Every request is recorded in ``seen``.
"""

from __future__ import annotations

import http.client
import io
import re
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import BinaryIO, Literal
from urllib.parse import parse_qs, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}
JSON_TYPE = "application/x-amz-json-1.1"
_CANNED = {
    "throttle": (400, b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'),
    "500": (500, b'{"__type": "ServerException", "message": "injected 500"}'),
}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


@dataclass
class Fault:
    """One injected fault: what it matches, what it answers, and how many more times."""

    kind: Literal["throttle", "500", "reset", "respond"]
    operation: str | None = None
    times: int | None = None
    status: int = 400
    body: bytes = b""
    content_type: str = JSON_TYPE
    pattern: str | None = None

    def __post_init__(self) -> None:
        if self.kind in _CANNED:
            self.status, self.body = _CANNED[self.kind]

    def matches(self, target: str, operation: str) -> bool:
        if self.pattern is not None:
            return re.search(self.pattern, operation) is not None
        return self.operation is None or self.operation in (target, operation)


@dataclass
class FaultProxy:
    """The running proxy: its URL, the faults still armed, and every operation it saw (faulted or not)."""

    upstream: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    faulted: list[str] = field(default_factory=list)
    access_keys: list[str] = field(default_factory=list)  # the key id that signed each request
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def count(self, operation: str) -> int:
        """How many requests for this operation reached the proxy."""
        with self._lock:
            return self.seen.count(operation)

    def take(self, target: str, operation: str, authorization: str = "") -> Fault | None:
        """Record the request and return the fault to serve, if one is armed for it."""
        with self._lock:
            self.seen.append(operation)
            key = _CREDENTIAL.search(authorization)
            self.access_keys.append(key.group(1) if key else "")
            for fault in self.faults:
                if fault.matches(target, operation) and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    self.faulted.append(operation)
                    return fault
        return None


def _operation(target: str, body: bytes, method: str, path: str) -> str:
    if target:
        return target.rsplit(".", 1)[-1]
    actions = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])
    return actions[0] or f"{method} {urlsplit(path).path}"


def _read_body(rfile: BinaryIO | io.BufferedIOBase, headers: Message) -> bytes:
    """The request body, whether sent with a Content-Length or chunked (as docker push does)."""
    if headers.get("Transfer-Encoding", "").lower() != "chunked":
        return rfile.read(int(headers.get("Content-Length") or 0))
    chunks = []
    while size := int(rfile.readline().split(b";")[0].strip() or b"0", 16):
        chunks.append(rfile.read(size))
        rfile.readline()
    while rfile.readline().strip():  # trailers, up to the blank line
        pass
    return b"".join(chunks)


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    upstream = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

        def _serve(self) -> None:
            body = _read_body(self.rfile, self.headers)
            target = self.headers.get("X-Amz-Target", "")
            operation = _operation(target, body, self.command, self.path)
            fault = proxy.take(target, operation, self.headers.get("Authorization", ""))
            if fault is None:
                self._forward(body)
            elif fault.kind == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
            else:
                self._reply(fault.status, fault.body, fault.content_type)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        def _reply(self, status: int, body: bytes, content_type: str = JSON_TYPE) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _forward(self, body: bytes) -> None:
            conn = http.client.HTTPConnection(upstream.hostname or "127.0.0.1", upstream.port, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP | {"content-length", "server", "date"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                conn.close()

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A reset we caused ourselves is not an error worth printing."""


@contextmanager
def fault_proxy(upstream: str, tls: ssl.SSLContext | None = None) -> Iterator[FaultProxy]:
    """Run a FaultProxy on 127.0.0.1 (free port) in front of ``upstream``; always shut it down.

    With ``tls`` (a server context) it speaks HTTPS, as a TLS-intercepting corporate proxy would.
    """
    proxy = FaultProxy(upstream)
    server = _Server(("127.0.0.1", 0), _handler(proxy))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    proxy.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
