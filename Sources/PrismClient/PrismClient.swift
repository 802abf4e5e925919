import Foundation
import Logging
import PrismWire
import Synchronization
import ZeroMQ

/// Every failure a client call can end in. One enum for the module.
public enum PrismClientError: Error, CustomStringConvertible, Equatable {
    /// The fleet answered with a non-OK status.
    case status(StatusCode, message: String, requestID: String)
    /// The client was closed before the call was answered.
    case closed
    /// The client could not be set up.
    case socket(String)

    public var code: StatusCode? {
        if case .status(let code, _, _) = self { return code }
        return nil
    }

    public var description: String {
        switch self {
        case .status(let code, let message, let id):
            let hint: String
            switch code {
            case .deadlineExceeded: hint = "the request was not answered before its deadline"
            case .unavailable: hint = "no worker could serve the request"
            case .resourceExhausted: hint = "the fleet is overloaded or the message too large; back off and retry"
            case .invalidArgument: hint = "the request was rejected as invalid"
            case .cancelled: hint = "the request was cancelled"
            case .notFound: hint = "something the request names does not exist"
            case .unauthenticated: hint = "the broker did not accept this client's security (CURVE keys)"
            case .permissionDenied: hint = "this client's key may not call that service"
            case .internal: hint = "the worker failed while handling the request"
            default: hint = "the request failed"
            }
            return "\(code.name) (\(hint)): \(message) [request \(id)]"
        case .closed: return "the client is closed"
        case .socket(let text): return "client socket error: \(text)"
        }
    }
}

/// How a client talks to the broker. Times are in milliseconds.
public struct ClientConfiguration: Sendable {
    /// The broker's frontend, e.g. `tcp://127.0.0.1:5555`; or several brokers' frontends separated by
    /// commas: requests go to the first until it stops answering, then to the next (failover).
    public var broker: String
    /// Deadline of calls that give none.
    public var defaultTimeoutMs: Int64 = 30_000
    /// Re-send an unanswered request (same id) this often: it survives a broker restart, and the
    /// broker absorbs the copies of a request it already holds.
    public var resendIntervalMs: Int64 = 1_000
    /// With several brokers: how long the active broker may stay silent while calls wait (it is
    /// pinged meanwhile) before the next one takes over.
    public var failoverAfterMs: Int64 = 2_000
    /// Request bodies larger than this fail at once with RESOURCE_EXHAUSTED (set it to the broker's
    /// `--max-body-bytes`).
    public var maxBodyBytes = defaultMaxBodyBytes
    /// CURVE: the broker's public key and this client's key pair (nil: a plain connection).
    public var curve: CurveClientKeys?

    /// The broker endpoints, in failover order.
    public var brokers: [String] { brokerEndpoints(broker) }

    public init(broker: String, curve: CurveClientKeys? = nil) {
        self.broker = broker
        self.curve = curve
    }
}

/// A successful answer.
public struct CallResult: Sendable, Equatable {
    public var requestID: String
    public var body: Data
    public var metadata: [String: String]
    public var workerID: String
    /// How many times the request was sent (1 unless it was re-sent).
    public var attempts: Int
}

/// The Swift client of the fleet: many concurrent async calls multiplexed over one DEALER socket,
/// which lives on the client's own I/O thread. Every call gets exactly one result.
public final class PrismClient: Sendable {
    enum Command: Sendable {
        case call(Envelope, CheckedContinuation<(Reply, Int), Never>)
        case cancel(String)
        case health(HealthRequest, deadline: Int64, CheckedContinuation<HealthReply?, Never>)
        case close
    }

    public let configuration: ClientConfiguration
    let mailbox: Mailbox<Command>
    let thread: IOThread
    let counters = ClientCounters()

    public init(configuration: ClientConfiguration, context: Context? = nil, logger: Logger = Logger(label: "prism.client")) throws(PrismClientError) {
        self.configuration = configuration
        guard !configuration.brokers.isEmpty else { throw .socket("no broker endpoint in '\(configuration.broker)'") }
        do {
            mailbox = try Mailbox()
            let context = try context ?? Context()
            let loop = try ClientLoop(configuration: configuration, context: context, counters: counters, logger: logger)
            let mailbox = self.mailbox
            thread = IOThread(name: "prism-client") { loop.run(mailbox: mailbox) }
        } catch {
            throw .socket(String(describing: error))
        }
    }

    deinit { mailbox.post(.close) }

    /// Sends a request and waits for its one reply, whatever its status (no throwing on non-OK).
    /// A call still unanswered at its deadline returns a local DEADLINE_EXCEEDED reply.
    public func send(_ envelope: Envelope) async -> (reply: Reply, attempts: Int) {
        var envelope = envelope
        if envelope.requestID.isEmpty { envelope.requestID = RequestID.make() }
        if envelope.deadlineUnixMs == 0 { envelope.deadlineUnixMs = unixTimeMs() + configuration.defaultTimeoutMs }
        if envelope.attempt == 0 { envelope.attempt = 1 }
        let request = envelope
        let id = envelope.requestID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                mailbox.post(.call(request, continuation))
            }
        } onCancel: {
            mailbox.post(.cancel(id))
        }
    }

    /// Calls `service` and returns the reply body; a non-OK status throws `PrismClientError.status`.
    public func call(service: String, method: String = "", body: Data, metadata: [String: String] = [:],
                     timeoutMs: Int64? = nil, requestID: String? = nil) async throws(PrismClientError) -> CallResult {
        var envelope = Envelope()
        envelope.requestID = requestID ?? RequestID.make()
        envelope.service = service
        envelope.method = method
        envelope.body = body
        envelope.metadata = metadata
        envelope.deadlineUnixMs = unixTimeMs() + (timeoutMs ?? configuration.defaultTimeoutMs)
        let (reply, attempts) = await send(envelope)
        guard reply.status.code == .ok else {
            throw .status(reply.status.code, message: reply.status.message, requestID: envelope.requestID)
        }
        return CallResult(requestID: envelope.requestID, body: reply.body, metadata: reply.metadata,
                          workerID: reply.workerID, attempts: attempts)
    }

    /// Asks the broker to cancel a request (the call then returns CANCELLED).
    public func cancel(requestID: String) { mailbox.post(.cancel(requestID)) }

    /// The broker's view of its services; nil when it does not answer within `timeoutMs`.
    public func health(service: String = "", timeoutMs: Int64 = 2_000) async -> HealthReply? {
        var request = HealthRequest()
        request.service = service
        request.requestID = RequestID.make()
        let deadline = unixTimeMs() + timeoutMs
        return await withCheckedContinuation { continuation in
            mailbox.post(.health(request, deadline: deadline, continuation))
        }
    }

    /// Ends the client: unanswered calls return a local CANCELLED reply.
    public func close() async {
        mailbox.post(.close)
        await thread.join()
    }

    /// Replies received for requests already answered (0 unless the broker misbehaves).
    public var duplicateReplies: Int { counters.duplicates.load(ordering: .relaxed) }
}

/// Numbers the client's I/O thread keeps for its owner.
final class ClientCounters: Sendable {
    /// Replies that arrived for a request already answered (should stay 0: the broker answers once).
    let duplicates = Atomic<Int>(0)
}
