"""A small HTTP/1.1 load generator on the standard library (asyncio, keep-alive).

C clients each POST one new partner request after another for a fixed time, every
one with its own `Idempotency-Key` and a marker in its subject, and remember the
tracking number of every 201. A server that closes the connection after each
answer (gunicorn's sync worker) is reconnected to; the connect time is counted in
the latency, as a caller would feel it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

PATH = "/api/v1/partner/requests"
TIMEOUT = 30.0


@dataclass
class LoadResult:
    """What the clients saw: latencies of every answer, statuses, accepted markers."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    accepted: dict[str, str] = field(default_factory=dict)  # marker -> tracking number
    sent_markers: int = 0

    @property
    def created(self) -> int:
        return self.statuses["201"]

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status != "201")

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    api_key: str
    body_of: Callable[[str], dict[str, object]]  # marker -> JSON body


class _Answer(Exception):
    """A transport failure, named for the error table."""


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _sep, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()
        headers["connection"] = "close"
    return status, headers, body


def _request_bytes(target: Target, marker: str) -> bytes:
    body = json.dumps(target.body_of(marker), ensure_ascii=False).encode()
    head = (
        f"POST {PATH} HTTP/1.1\r\n"
        f"Host: {target.host}:{target.port}\r\n"
        "Content-Type: application/json\r\n"
        f"X-API-Key: {target.api_key}\r\n"
        f"Idempotency-Key: {uuid.uuid4()}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class _Connection:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, payload: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.target.host, self.target.port
            )
        assert self.reader is not None
        self.writer.write(payload)
        await self.writer.drain()
        status, headers, body = await _read_response(self.reader)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _client(target: Target, index: int, run: str, deadline: float, out: LoadResult) -> None:
    connection = _Connection(target)
    sequence = 0
    try:
        while time.perf_counter() < deadline:
            sequence += 1
            marker = f"{run}-{index}-{sequence}"
            payload = _request_bytes(target, marker)
            out.sent_markers += 1
            started = time.perf_counter()
            try:
                status, body = await asyncio.wait_for(connection.exchange(payload), TIMEOUT)
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
                connection.close()
                out.statuses[f"conn:{type(error).__name__}"] += 1
                continue
            out.latencies.append(time.perf_counter() - started)
            out.statuses[str(status)] += 1
            if status == 201:
                out.accepted[marker] = json.loads(body)["tracking_number"]
    finally:
        connection.close()


async def _load(target: Target, *, clients: int, seconds: float, run: str) -> LoadResult:
    out = LoadResult()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_client(target, i, run, deadline, out) for i in range(clients)))
    out.seconds = time.perf_counter() - started
    return out


def load_run(target: Target, *, clients: int, seconds: float, run: str) -> LoadResult:
    """Drive the server for `seconds` with `clients` concurrent keep-alive clients."""
    return asyncio.run(_load(target, clients=clients, seconds=seconds, run=run))


async def _answers(host: str, port: int) -> bool:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    try:
        status, _headers, _body = await asyncio.wait_for(_read_response(reader), 5)
    except (TimeoutError, OSError, asyncio.IncompleteReadError):
        return False
    finally:
        writer.close()
    return status == 200


def server_answers(host: str, port: int) -> bool:
    """True once GET /healthz answers 200."""
    return asyncio.run(_answers(host, port))
