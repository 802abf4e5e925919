import Foundation
import PrismWire
import Synchronization

/// One request as a handler sees it.
public struct WorkRequest: Sendable {
    public let envelope: Envelope
    /// Set when the client cancelled or the deadline passed; long handlers should check it.
    public let cancellation: CancellationFlag

    public init(envelope: Envelope, cancellation: CancellationFlag = CancellationFlag()) {
        self.envelope = envelope
        self.cancellation = cancellation
    }

    public var requestID: String { envelope.requestID }
    public var method: String { envelope.method }
    public var body: Data { envelope.body }
    public var metadata: [String: String] { envelope.metadata }
    /// Absolute deadline in Unix milliseconds, nil when none.
    public var deadlineUnixMs: Int64? { envelope.deadlineUnixMs == 0 ? nil : envelope.deadlineUnixMs }
    public var isCancelled: Bool { cancellation.isCancelled }
}

/// A thread-safe "stop working on this" flag.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isCancelled: Bool { flag.load(ordering: .acquiring) }
    public func cancel() { flag.store(true, ordering: .releasing) }
}

/// What a handler answers for one request.
public struct WorkResult: Sendable, Equatable {
    public var status: Status
    public var body: Data
    public var metadata: [String: String]

    public init(status: Status, body: Data = Data(), metadata: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.metadata = metadata
    }

    public static func ok(_ body: Data, metadata: [String: String] = [:]) -> WorkResult {
        WorkResult(status: Status(.ok), body: body, metadata: metadata)
    }

    public static func failure(_ code: StatusCode, _ message: String) -> WorkResult {
        WorkResult(status: Status(code, message))
    }
}

/// An error a handler throws to answer with a specific status (anything else becomes INTERNAL).
public struct HandlerError: Error, Sendable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    public init(_ code: StatusCode, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code.name): \(message)" }
}

/// A service's logic, hosted by `WorkerRuntime`. Handlers are stateless as far as the fleet is
/// concerned: any worker of a service may get any request.
public protocol RequestHandler: Sendable {
    /// The most requests handed over in one call (1: one at a time). The runtime never runs more
    /// than the worker's capacity at once, batches included.
    var maxBatchSize: Int { get }
    /// Answers every request of the batch, in order (the same count).
    func handle(batch: [WorkRequest]) async -> [WorkResult]
}

/// A handler that takes one request at a time; batches are run concurrently, one task each.
public protocol SingleRequestHandler: RequestHandler {
    /// The reply body; throw `HandlerError` for a specific status.
    func handle(_ request: WorkRequest) async throws -> WorkResult
}

extension SingleRequestHandler {
    public var maxBatchSize: Int { 1 }

    public func handle(batch: [WorkRequest]) async -> [WorkResult] {
        if batch.count == 1 { return [await run(batch[0])] }  // the common case: no task group
        return await withTaskGroup(of: (Int, WorkResult).self) { group in
            for (index, request) in batch.enumerated() {
                group.addTask { (index, await self.run(request)) }
            }
            var results = [WorkResult](repeating: .failure(.internal, "no result"), count: batch.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
    }

    func run(_ request: WorkRequest) async -> WorkResult {
        do {
            return try await handle(request)
        } catch let error as HandlerError {
            return .failure(error.code, error.message)
        } catch is CancellationError {
            return .failure(.cancelled, "cancelled")
        } catch {
            return .failure(.internal, "handler failed: \(error)")
        }
    }
}

/// A handler cheap enough to answer on the worker's I/O thread, as soon as a request arrives:
/// microseconds of pure computation, never blocking, never awaiting (echo, lookups, validation).
/// The runtime then skips the hand-over to a task and the wake-up that brings the result back.
/// Anything slower belongs in `handle(batch:)`: while an inline handler runs, the worker neither
/// receives nor heartbeats.
public protocol InlineRequestHandler: RequestHandler {
    func handleInline(_ request: WorkRequest) -> WorkResult
}

/// Answers every request with its own body (tests, benchmarks, health checks).
public struct EchoHandler: SingleRequestHandler, InlineRequestHandler {
    public init() {}
    public func handle(_ request: WorkRequest) async throws -> WorkResult { .ok(request.body) }
    public func handleInline(_ request: WorkRequest) -> WorkResult { .ok(request.body) }
}

/// Sleeps, then echoes: a stand-in for a model call of known duration. The sleep is
/// `defaultMilliseconds`, or the request's `sleep_ms` metadata when present. Honours cancellation.
public struct SleepHandler: SingleRequestHandler {
    public let defaultMilliseconds: Int
    public init(milliseconds: Int) { defaultMilliseconds = milliseconds }

    public func handle(_ request: WorkRequest) async throws -> WorkResult {
        var ms = defaultMilliseconds
        if let text = request.metadata["sleep_ms"] {
            guard let value = Int(text), value >= 0, value <= 600_000 else {
                throw HandlerError(.invalidArgument, "sleep_ms must be an integer from 0 to 600000, got '\(text)'")
            }
            ms = value
        }
        try await Task.sleep(for: .milliseconds(ms))
        if request.isCancelled { throw HandlerError(.cancelled, "cancelled") }
        return .ok(request.body)
    }
}
