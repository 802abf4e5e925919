"""One exception per gRPC status code, all of them `PrismError`."""
from __future__ import annotations

from typing import Dict, Type

from ._proto import fleet_pb2

Code = fleet_pb2.Status.Code


class PrismError(Exception):
    """A call that did not end OK: the fleet's status code and message, and the request id."""

    code: int = Code.UNKNOWN

    def __init__(self, message: str, request_id: str = "", code: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.request_id = request_id

    @property
    def code_name(self) -> str:
        return Code.Name(self.code)

    def __str__(self) -> str:
        return f"{self.code_name}: {self.message} [request {self.request_id}]"


class Cancelled(PrismError): code = Code.CANCELLED
class Unknown(PrismError): code = Code.UNKNOWN
class InvalidArgument(PrismError): code = Code.INVALID_ARGUMENT
class DeadlineExceeded(PrismError): code = Code.DEADLINE_EXCEEDED
class NotFound(PrismError): code = Code.NOT_FOUND
class AlreadyExists(PrismError): code = Code.ALREADY_EXISTS
class PermissionDenied(PrismError): code = Code.PERMISSION_DENIED
class ResourceExhausted(PrismError): code = Code.RESOURCE_EXHAUSTED
class FailedPrecondition(PrismError): code = Code.FAILED_PRECONDITION
class Aborted(PrismError): code = Code.ABORTED
class OutOfRange(PrismError): code = Code.OUT_OF_RANGE
class Unimplemented(PrismError): code = Code.UNIMPLEMENTED
class Internal(PrismError): code = Code.INTERNAL
class Unavailable(PrismError): code = Code.UNAVAILABLE
class DataLoss(PrismError): code = Code.DATA_LOSS
class Unauthenticated(PrismError): code = Code.UNAUTHENTICATED


_BY_CODE: Dict[int, Type[PrismError]] = {cls.code: cls for cls in PrismError.__subclasses__()}


def error_for(code: int, message: str, request_id: str) -> PrismError:
    """The exception of a non-OK status."""
    cls = _BY_CODE.get(code)
    return cls(message, request_id) if cls else PrismError(message, request_id, code=code)
