"""The synchronous client: one DEALER socket, one call at a time (not thread-safe)."""
from __future__ import annotations

from typing import Dict, Optional

import zmq

from . import wire
from ._proto import fleet_pb2
from .errors import DeadlineExceeded, error_for
from .types import EXPLAIN_SERVICE, CallResult, ExplainReply, ExplainRequest


class Client:
    def __init__(self, broker: str, *, curve: Optional[wire.CurveKeys] = None, timeout_ms: int = 30_000,
                 resend_interval_ms: int = 1_000, context: Optional[zmq.Context] = None):
        self.broker = broker
        self.timeout_ms = timeout_ms
        self.resend_interval_ms = resend_interval_ms
        self._own_context = context is None
        self._context = context or zmq.Context()
        self._socket = wire.dealer(self._context, broker, curve)
        #: Replies that arrived for requests already answered (dropped).
        self.duplicate_replies = 0

    def close(self) -> None:
        self._socket.close(linger=0)
        if self._own_context:
            self._context.term()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, service: str, body: bytes, *, method: str = "", metadata: Optional[Dict[str, str]] = None,
             timeout_ms: Optional[int] = None, request_id: Optional[str] = None) -> CallResult:
        """Sends a request and waits for its one answer; a non-OK status raises its `PrismError`."""
        request_id = request_id or wire.new_request_id()
        deadline = wire.unix_time_ms() + (timeout_ms if timeout_ms is not None else self.timeout_ms)
        envelope = fleet_pb2.Envelope(request_id=request_id, service=service, method=method,
                                      deadline_unix_ms=deadline, attempt=1, metadata=metadata or {}, body=body)
        self._socket.send_multipart(wire.request_frames(envelope))
        next_resend = wire.unix_time_ms() + self.resend_interval_ms
        while True:
            now = wire.unix_time_ms()
            if now >= deadline:
                raise DeadlineExceeded(f"no reply within the deadline ({envelope.attempt} attempts)", request_id)
            if now >= next_resend:
                envelope.attempt += 1
                self._socket.send_multipart(wire.request_frames(envelope))
                next_resend = now + self.resend_interval_ms
            if not self._socket.poll(max(1, min(deadline, next_resend) - now)):
                continue
            parsed = wire.parse(self._socket.recv_multipart())
            if parsed is None or parsed[0] != "reply":
                continue
            reply = parsed[1]
            if reply.request_id != request_id:
                self.duplicate_replies += 1
                continue
            if reply.metadata.get("prism-retry") == "true":  # the broker is shutting down: again soon
                next_resend = min(next_resend, wire.unix_time_ms() + 100)
                continue
            if reply.status.code != fleet_pb2.Status.OK:
                raise error_for(reply.status.code, reply.status.message, request_id)
            return CallResult(request_id, reply.body, dict(reply.metadata), reply.worker_id, envelope.attempt)

    def explain(self, request: ExplainRequest, *, timeout_ms: Optional[int] = None,
                service: str = EXPLAIN_SERVICE) -> ExplainReply:
        result = self.call(service, request.to_proto().SerializeToString(), timeout_ms=timeout_ms)
        return ExplainReply.from_bytes(result.body, result.worker_id)

    def health(self, service: str = "", timeout_ms: int = 2_000) -> Optional[fleet_pb2.HealthReply]:
        """The broker's view of its services, or None without an answer in time."""
        request = fleet_pb2.HealthRequest(service=service, request_id=wire.new_request_id())
        self._socket.send_multipart(wire.health_frames(request))
        deadline = wire.unix_time_ms() + timeout_ms
        while (left := deadline - wire.unix_time_ms()) > 0:
            if not self._socket.poll(left):
                break
            parsed = wire.parse(self._socket.recv_multipart())
            if parsed and parsed[0] == "health" and parsed[1].request_id == request.request_id:
                return parsed[1]
        return None
