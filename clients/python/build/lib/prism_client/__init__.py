"""Python client of the Prism explanation fleet.

    from prism_client import Client, ExplainRequest
    with Client("tcp://127.0.0.1:5555") as client:
        print(client.explain(ExplainRequest("42", ["1", "50", "181"], "172")).explanation)
"""
from .aio import AsyncClient
from .client import Client
from .errors import (Aborted, AlreadyExists, Cancelled, DataLoss, DeadlineExceeded, FailedPrecondition, Internal,
                     InvalidArgument, NotFound, OutOfRange, PermissionDenied, PrismError, ResourceExhausted,
                     Unauthenticated, Unavailable, Unimplemented, Unknown, error_for)
from .types import CallResult, ExplainReply, ExplainRequest
from .wire import CurveKeys

__all__ = ["AsyncClient", "Client", "CallResult", "CurveKeys", "ExplainReply", "ExplainRequest", "PrismError",
           "Aborted", "AlreadyExists", "Cancelled", "DataLoss", "DeadlineExceeded", "FailedPrecondition", "Internal",
           "InvalidArgument", "NotFound", "OutOfRange", "PermissionDenied", "ResourceExhausted", "Unauthenticated",
           "Unavailable", "Unimplemented", "Unknown", "error_for"]
