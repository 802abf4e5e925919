"""The asyncio client: many requests in flight on one DEALER socket, like the Swift client. A reader
task hands each reply to the future of its request id; a resend task re-sends unanswered requests
with the same id; each call ends at its deadline at the latest."""
from __future__ import annotations

import asyncio
from typing import Dict, Optional

import zmq
import zmq.asyncio

from . import wire
from ._proto import fleet_pb2
from .errors import AlreadyExists, DeadlineExceeded, PrismError, error_for
from .types import EXPLAIN_SERVICE, CallResult, ExplainReply, ExplainRequest


class _Pending:
    __slots__ = ("envelope", "future", "next_resend")

    def __init__(self, envelope: fleet_pb2.Envelope, future: asyncio.Future, next_resend: int):
        self.envelope = envelope
        self.future = future
        self.next_resend = next_resend


class AsyncClient:
    def __init__(self, broker: str, *, curve: Optional[wire.CurveKeys] = None, timeout_ms: int = 30_000,
                 resend_interval_ms: int = 1_000):
        self.broker = broker
        self.timeout_ms = timeout_ms
        self.resend_interval_ms = resend_interval_ms
        self._context = zmq.asyncio.Context()
        self._socket = wire.dealer(self._context, broker, curve)
        self._pending: Dict[str, _Pending] = {}
        self._health: Dict[str, asyncio.Future] = {}
        self._tasks: list = []
        #: Replies that arrived for requests already answered or unknown (dropped).
        self.duplicate_replies = 0

    async def __aenter__(self) -> "AsyncClient":
        self._start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def _start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.ensure_future(self._read()), asyncio.ensure_future(self._resend())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(PrismError("the client was closed", pending.envelope.request_id,
                                                        code=fleet_pb2.Status.CANCELLED))
        self._pending.clear()
        self._socket.close(linger=0)
        self._context.term()

    async def call(self, service: str, body: bytes, *, method: str = "", metadata: Optional[Dict[str, str]] = None,
                   timeout_ms: Optional[int] = None, request_id: Optional[str] = None) -> CallResult:
        """Sends a request and awaits its one answer; a non-OK status raises its `PrismError`.
        Cancelling the awaiting task sends CANCEL to the broker."""
        self._start()
        request_id = request_id or wire.new_request_id()
        if request_id in self._pending:
            raise AlreadyExists("a call with this request id is already running", request_id)
        timeout = timeout_ms if timeout_ms is not None else self.timeout_ms
        deadline = wire.unix_time_ms() + timeout
        envelope = fleet_pb2.Envelope(request_id=request_id, service=service, method=method,
                                      deadline_unix_ms=deadline, attempt=1, metadata=metadata or {}, body=body)
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = _Pending(envelope, future, wire.unix_time_ms() + self.resend_interval_ms)
        await self._socket.send_multipart(wire.request_frames(envelope))
        try:
            reply = await asyncio.wait_for(asyncio.shield(future), timeout / 1000)
        except asyncio.TimeoutError:
            attempts = envelope.attempt
            raise DeadlineExceeded(f"no reply within the deadline ({attempts} attempts)", request_id) from None
        except asyncio.CancelledError:
            if not future.done():
                await self._socket.send_multipart(wire.cancel_frames(request_id))
            raise
        finally:
            self._pending.pop(request_id, None)
        if reply.status.code != fleet_pb2.Status.OK:
            raise error_for(reply.status.code, reply.status.message, request_id)
        return CallResult(request_id, reply.body, dict(reply.metadata), reply.worker_id, envelope.attempt)

    async def explain(self, request: ExplainRequest, *, timeout_ms: Optional[int] = None,
                      service: str = EXPLAIN_SERVICE) -> ExplainReply:
        result = await self.call(service, request.to_proto().SerializeToString(), timeout_ms=timeout_ms)
        return ExplainReply.from_bytes(result.body, result.worker_id)

    async def health(self, service: str = "", timeout_ms: int = 2_000) -> Optional[fleet_pb2.HealthReply]:
        self._start()
        request = fleet_pb2.HealthRequest(service=service, request_id=wire.new_request_id())
        future = asyncio.get_running_loop().create_future()
        self._health[request.request_id] = future
        await self._socket.send_multipart(wire.health_frames(request))
        try:
            return await asyncio.wait_for(future, timeout_ms / 1000)
        except asyncio.TimeoutError:
            return None
        finally:
            self._health.pop(request.request_id, None)

    async def _read(self) -> None:
        while True:
            parsed = wire.parse(await self._socket.recv_multipart())
            if parsed is None:
                continue
            kind, message = parsed
            if kind == "health":
                future = self._health.get(message.request_id)
                if future is not None and not future.done():
                    future.set_result(message)
                continue
            pending = self._pending.get(message.request_id)
            if pending is None or pending.future.done():
                self.duplicate_replies += 1
                continue
            if message.metadata.get("prism-retry") == "true":  # the broker is shutting down: again soon
                pending.next_resend = min(pending.next_resend, wire.unix_time_ms() + 100)
                continue
            pending.future.set_result(message)

    async def _resend(self) -> None:
        while True:
            await asyncio.sleep(0.02)
            now = wire.unix_time_ms()
            for pending in list(self._pending.values()):
                if pending.future.done() or now < pending.next_resend:
                    continue
                pending.envelope.attempt += 1
                pending.next_resend = now + self.resend_interval_ms
                await self._socket.send_multipart(wire.request_frames(pending.envelope))
