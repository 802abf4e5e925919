"""Client-side semantics of prism_client.py against a scripted fake broker (a ROUTER on loopback):
re-sends keep the request id and count attempts, duplicate replies are dropped, deadlines are local.

    python -m pytest scripts/interop/test_prism_client.py -q
"""

import os
import sys
import threading

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prism_client  # noqa: E402
from prism_client import PrismClient, fleet_pb2  # noqa: E402


class FakeBroker:
    """Receives requests on a ROUTER; `script(envelope, seen)` returns the replies to send for each."""

    def __init__(self, script):
        self.context = zmq.Context()
        self.router = self.context.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        port = self.router.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = "tcp://127.0.0.1:%d" % port
        self.script = script
        self.seen = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            if not self.router.poll(20):
                continue
            peer, tag, command, body = self.router.recv_multipart()
            assert tag == b"PRISM/C1" and command == bytes([prism_client.REQUEST])
            envelope = fleet_pb2.Envelope.FromString(body)
            self.seen.append(envelope)
            for reply in self.script(envelope, self.seen):
                self.router.send_multipart([peer, b"PRISM/C1", bytes([prism_client.REPLY]), reply.SerializeToString()])

    def close(self):
        self.stop.set()
        self.thread.join()
        self.router.close()
        self.context.term()


def reply_to(envelope, body, code=0, message=""):
    return fleet_pb2.Reply(request_id=envelope.request_id, status=fleet_pb2.Status(code=code, message=message),
                           body=body, worker_id="fake")


def test_resend_keeps_id_counts_attempts_and_drops_duplicates():
    def script(envelope, seen):
        if envelope.attempt < 3:
            return []  # "lost": the client must re-send
        stale = fleet_pb2.Reply(request_id="someone-else", status=fleet_pb2.Status(code=0), body=b"wrong")
        return [stale, reply_to(envelope, b"third time"), reply_to(envelope, b"duplicate")]

    broker = FakeBroker(script)
    try:
        with PrismClient(broker.endpoint, resend_interval_ms=100) as client:
            result = client.call("echo", b"x", metadata={"k": "v"}, timeout_ms=3000, request_id="fixed-id")
            assert result == (0, "", b"third time", "fake")
            assert client.last_attempts == 3
            assert client.duplicate_replies == 1  # the stale one; the duplicate is still queued
            # The next call drops the duplicate of the previous one.
            broker.script = lambda envelope, seen: [reply_to(envelope, b"second call")]
            assert client.call("echo", b"y", timeout_ms=3000).body == b"second call"
            assert client.duplicate_replies == 2
    finally:
        broker.close()
    first = broker.seen[:3]
    assert [e.attempt for e in first] == [1, 2, 3]
    assert {e.request_id for e in first} == {"fixed-id"}
    assert {e.deadline_unix_ms for e in first} == {first[0].deadline_unix_ms}
    assert dict(first[0].metadata) == {"k": "v"} and first[0].service == "echo"
    assert len(broker.seen[3].request_id) == 36  # a UUID


def test_deadline_is_local_and_status_names():
    broker = FakeBroker(lambda envelope, seen: [])
    try:
        with PrismClient(broker.endpoint, resend_interval_ms=100) as client:
            result = client.call("echo", b"x", timeout_ms=250)
            assert result.status_code == fleet_pb2.Status.DEADLINE_EXCEEDED
            assert result.code_name == "DEADLINE_EXCEEDED"
    finally:
        broker.close()
    assert prism_client.code_name(14) == "UNAVAILABLE"
    assert prism_client.code_name(99) == "CODE_99"


def test_cli_reports_non_ok_status(capsys):
    broker = FakeBroker(lambda envelope, seen: [reply_to(envelope, b"", code=8, message="queue full")])
    try:
        assert prism_client.main(["--broker", broker.endpoint, "--body", "x"]) == 1
    finally:
        broker.close()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "RESOURCE_EXHAUSTED: queue full\n"
