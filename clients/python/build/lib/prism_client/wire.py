"""The client side of the fleet's wire protocol (Protos/PROTOCOL.md): three frames per message,
``[b"PRISM/C1", command byte, protobuf body]``."""
from __future__ import annotations

import secrets
import time
import uuid
from typing import NamedTuple, Optional

import zmq

from ._proto import fleet_pb2

TAG = b"PRISM/C1"
REQUEST = 0x02
REPLY = 0x03
CANCEL = 0x06
HEALTH = 0x07


def unix_time_ms() -> int:
    return int(time.time() * 1000)


def new_request_id() -> str:
    return str(uuid.uuid4())


def routing_id() -> bytes:
    """16 random bytes, the first never zero: the broker scopes requests, replays and cancels to it,
    so it must not be guessable, and it is kept across reconnects."""
    return bytes([secrets.randbelow(255) + 1]) + secrets.token_bytes(15)


class CurveKeys(NamedTuple):
    """CURVE settings: the broker's public key and this client's pair (Z85 text)."""
    server_public: str
    public: str
    secret: str

    @staticmethod
    def from_files(broker_key: str, key: str) -> "CurveKeys":
        """Reads `prism keygen`'s files: the broker's .pub (or .key) and this client's .key."""
        pair = _key_entries(key)
        if "secret-key" not in pair:
            raise ValueError(f"{key} holds no secret-key line (is it a .pub file?)")
        server = _key_entries(broker_key)
        server_public = server.get("public-key") or server.get("")
        if not server_public:
            raise ValueError(f"{broker_key} holds no public key")
        public = pair.get("public-key") or zmq.curve_public(pair["secret-key"].encode()).decode()
        return CurveKeys(server_public, public, pair["secret-key"])


def _key_entries(path: str) -> dict:
    entries: dict = {}
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            # Comments are '#' alone or '# ...': a Z85 key may itself start with '#'.
            if not line or line == "#" or line.startswith("# "):
                continue
            words = line.split()
            if words[0] in ("public-key", "secret-key") and len(words) == 2:
                entries[words[0]] = words[1]
            elif "" not in entries:
                entries[""] = words[0]
    return entries


def dealer(context: zmq.Context, broker: str, curve: Optional[CurveKeys]) -> zmq.Socket:
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.ROUTING_ID, routing_id())
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.RECONNECT_IVL, 100)
    socket.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)
    if curve is not None:
        socket.curve_serverkey = curve.server_public.encode()
        socket.curve_publickey = curve.public.encode()
        socket.curve_secretkey = curve.secret.encode()
    socket.connect(broker)
    return socket


def request_frames(envelope: fleet_pb2.Envelope) -> list:
    return [TAG, bytes([REQUEST]), envelope.SerializeToString()]


def cancel_frames(request_id: str) -> list:
    return [TAG, bytes([CANCEL]), fleet_pb2.Cancel(request_id=request_id).SerializeToString()]


def health_frames(request: fleet_pb2.HealthRequest) -> list:
    return [TAG, bytes([HEALTH]), request.SerializeToString()]


def parse(frames: list):
    """A broker message: ("reply", Reply) or ("health", HealthReply); None when it is not ours."""
    if len(frames) != 3 or frames[0] != TAG or len(frames[1]) != 1:
        return None
    command = frames[1][0]
    try:
        if command == REPLY:
            return "reply", fleet_pb2.Reply.FromString(frames[2])
        if command == HEALTH:
            return "health", fleet_pb2.HealthReply.FromString(frames[2])
    except Exception:  # a malformed body from a broker: not an answer to anything
        return None
    return None
