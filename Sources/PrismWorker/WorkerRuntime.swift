import Logging
import PrismWire
import ServiceLifecycle
import Synchronization
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// Every failure of the worker module.
public enum WorkerError: Error, CustomStringConvertible {
    case invalidConfiguration(String)
    case socket(ZeroMQError)
    case alreadyStarted
    /// The broker refused this worker for good (PERMISSION_DENIED: its key may not serve the service).
    case refused(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let text): return "invalid worker configuration: \(text)"
        case .socket(let error): return "socket error: \(error)"
        case .alreadyStarted: return "the worker was already started"
        case .refused(let reason): return "the broker refused this worker: \(reason)"
        }
    }
}

/// How a worker registers and behaves. Times are in milliseconds.
public struct WorkerConfiguration: Sendable {
    /// The broker's backend, e.g. `tcp://127.0.0.1:5556`.
    public var broker: String
    public var service: String
    /// Requests held at once (the broker never sends more).
    public var capacity: Int = 1
    public var heartbeatIntervalMs: Int64 = 1_000
    /// The broker is presumed gone after this many silent intervals; the worker reconnects.
    public var heartbeatLiveness: Int64 = 3
    /// Dynamic batching: how long a partial batch may wait for more requests (0: never wait).
    public var maxBatchWaitMs: Int64 = 0
    /// On shutdown, how long to finish held requests before leaving anyway.
    public var drainTimeoutMs: Int64 = 30_000
    /// A name for logs and replies.
    public var workerID: String
    public var labels: [String: String] = [:]
    /// CURVE: the broker's public key and this worker's key pair (nil: a plain connection).
    public var curve: CurveClientKeys?

    public init(broker: String, service: String, capacity: Int = 1, workerID: String? = nil) {
        self.broker = broker
        self.service = service
        self.capacity = capacity
        self.workerID = workerID ?? WorkerConfiguration.defaultWorkerID(service: service)
    }

    static func defaultWorkerID(service: String) -> String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let name = host.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return "\(service)@\(name):\(getpid())"
    }

    func validate() throws(WorkerError) {
        guard !service.isEmpty else { throw .invalidConfiguration("service is empty") }
        guard (1...4096).contains(capacity) else { throw .invalidConfiguration("capacity must be 1-4096, got \(capacity)") }
        guard heartbeatIntervalMs > 0, heartbeatLiveness > 0 else { throw .invalidConfiguration("heartbeat interval and liveness must be positive") }
    }
}

/// A stateless worker: connects a DEALER to the broker's backend, registers for one service and
/// runs a `RequestHandler` on what it receives. Its socket lives on its own I/O thread, which
/// heartbeats on time even while the handler is busy; handlers run as Swift tasks.
public final class WorkerRuntime: Service, Sendable {
    enum Command: Sendable {
        case completed([String], [WorkResult])
        case shutdown
    }

    public let configuration: WorkerConfiguration
    let handler: any RequestHandler
    let context: Context
    let logger: Logger
    let mailbox: Mailbox<Command>
    private let thread = Mutex<IOThread?>(nil)
    /// Set by the loop when the broker refuses this worker for good; `run()` then throws it.
    let refusal = Mutex<String?>(nil)
    let heard = Atomic<Bool>(false)

    /// Whether the broker has answered since the worker last (re)connected: it is registered and
    /// heartbeating (a readiness probe).
    public var isConnected: Bool { heard.load(ordering: .relaxed) }

    public init(configuration: WorkerConfiguration, handler: any RequestHandler, context: Context? = nil,
                logger: Logger = Logger(label: "prism.worker")) throws {
        try configuration.validate()
        self.configuration = configuration
        self.handler = handler
        self.context = try context ?? Context()
        self.logger = logger
        self.mailbox = try Mailbox()
    }

    /// Starts the worker's thread: it connects, registers and serves until `shutdown`.
    public func start() throws {
        let loop = try WorkerLoop(runtime: self)
        try thread.withLock { current in
            guard current == nil else { throw WorkerError.alreadyStarted }
            current = IOThread(name: "prism-worker") { loop.run() }
        }
    }

    /// Stops taking work, finishes what it holds (up to the drain timeout), says DISCONNECT.
    public func shutdown() { mailbox.post(.shutdown) }

    /// Returns when the worker's thread has ended.
    public func join() async {
        guard let thread = thread.withLock({ $0 }) else { return }
        await thread.join()
    }

    /// swift-service-lifecycle: serves until graceful shutdown (SIGTERM), then drains. Throws
    /// `WorkerError.refused` when the broker refuses the worker for good.
    public func run() async throws {
        try start()
        await withGracefulShutdownHandler {
            await join()
        } onGracefulShutdown: {
            self.shutdown()
        }
        if let reason = refusal.withLock({ $0 }) { throw WorkerError.refused(reason) }
    }
}
