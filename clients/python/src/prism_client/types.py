"""Typed requests and replies of the prism.explain service (explain.proto), and a call's result."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ._proto import explain_pb2

EXPLAIN_SERVICE = "prism.explain"


@dataclass
class CallResult:
    """A call that ended OK."""
    request_id: str
    body: bytes
    metadata: Dict[str, str]
    worker_id: str
    #: How many times the request was sent (1 unless it was re-sent).
    attempts: int


@dataclass
class ExplainRequest:
    """Why is `item_id` recommended to `user_id`, who watched `history_item_ids` (oldest first)?
    An unknown user is fine (cold start: the explanation is content-based)."""
    user_id: str
    history_item_ids: List[str]
    item_id: str
    #: 0: the model's default.
    max_new_tokens: int = 0
    num_beams: int = 0
    #: Return the student's own text even when the grounding check fails (no fallback).
    allow_ungrounded: bool = False
    #: Which ranker picked the item, its rank and score: echoed in the reply, never read by the model.
    ranker: str = ""
    rank: int = 0
    score: float = 0.0

    def to_proto(self) -> explain_pb2.ExplainRequest:
        request = explain_pb2.ExplainRequest(user_id=self.user_id, history_item_ids=list(self.history_item_ids),
                                             item_id=self.item_id, max_new_tokens=self.max_new_tokens,
                                             num_beams=self.num_beams, allow_ungrounded=self.allow_ungrounded)
        if self.ranker or self.rank or self.score:
            request.ranking.CopyFrom(explain_pb2.Ranking(ranker=self.ranker, rank=self.rank, score=self.score))
        return request


@dataclass
class ExplainReply:
    explanation: str
    cold_start: bool
    model_id: str
    #: GROUNDED, GROUNDED_BEAM, FALLBACK, UNGROUNDED or GROUNDING_UNCHECKED.
    grounding: str
    grounding_problems: List[str] = field(default_factory=list)
    cited_item_ids: List[str] = field(default_factory=list)
    history_dropped: int = 0
    constrained: bool = False
    worker_id: str = ""
    #: The request's ranking metadata, echoed: (ranker, rank, score), or None when it had none.
    ranking: Optional[Tuple[str, int, float]] = None

    @staticmethod
    def from_bytes(body: bytes, worker_id: str = "") -> "ExplainReply":
        reply = explain_pb2.ExplainReply.FromString(body)
        return ExplainReply(explanation=reply.explanation, cold_start=reply.cold_start, model_id=reply.model_id,
                            grounding=explain_pb2.Grounding.Name(reply.grounding),
                            grounding_problems=list(reply.grounding_problems), cited_item_ids=list(reply.cited_item_ids),
                            history_dropped=reply.history_dropped, constrained=reply.constrained, worker_id=worker_id,
                            ranking=(reply.ranking.ranker, reply.ranking.rank, reply.ranking.score)
                            if reply.HasField("ranking") else None)
