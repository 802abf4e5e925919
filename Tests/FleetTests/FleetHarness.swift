import Foundation
import Logging
import PrismBroker
import PrismClient
import PrismWire
import PrismWorker
import XCTest
import ZeroMQ

/// A broker and workers in this process, over real libzmq sockets on TCP loopback.
final class InProcessFleet {
    let broker: BrokerServer
    let endpoints: BrokerServer.Endpoints
    var workers: [WorkerRuntime] = []
    var clients: [PrismClient] = []

    static var quietLogger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    init(configuration: BrokerConfiguration = InProcessFleet.fastBroker()) async throws {
        broker = try BrokerServer(configuration: configuration, frontend: "tcp://127.0.0.1:*", backend: "tcp://127.0.0.1:*",
                                  logger: InProcessFleet.quietLogger)
        endpoints = try await broker.start()
    }

    static func fastBroker() -> BrokerConfiguration {
        var config = BrokerConfiguration()
        config.heartbeatIntervalMs = 100
        config.unavailableGraceMs = 300
        return config
    }

    @discardableResult
    func addWorker(service: String, handler: any RequestHandler, capacity: Int = 1, name: String? = nil) throws -> WorkerRuntime {
        var config = WorkerConfiguration(broker: endpoints.backend, service: service, capacity: capacity, workerID: name)
        config.heartbeatIntervalMs = 100
        let worker = try WorkerRuntime(configuration: config, handler: handler, logger: InProcessFleet.quietLogger)
        try worker.start()
        workers.append(worker)
        return worker
    }

    func client(resendMs: Int64 = 1_000) throws -> PrismClient {
        var config = ClientConfiguration(broker: endpoints.frontend)
        config.resendIntervalMs = resendMs
        let client = try PrismClient(configuration: config, logger: InProcessFleet.quietLogger)
        clients.append(client)
        return client
    }

    /// Waits until the broker reports `count` workers for `service`.
    func waitForWorkers(_ service: String, count: Int, timeout: TimeInterval = 5) async throws {
        let probe = try client()
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if let health = await probe.health(service: service), let entry = health.services.first, entry.workers == count { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("service \(service) never reached \(count) workers")
    }

    func stop() async {
        for client in clients { await client.close() }
        for worker in workers { worker.shutdown() }
        for worker in workers { await worker.join() }
        broker.shutdown(drainMs: 0)
        await broker.join()
    }
}

/// Records which requests ran concurrently, to check capacity limits from the worker side.
final class ConcurrencyProbe: SingleRequestHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0
    private(set) var peak = 0
    let sleepMs: Int
    init(sleepMs: Int) { self.sleepMs = sleepMs }

    func handle(_ request: WorkRequest) async throws -> WorkResult {
        lock.withLock { current += 1; peak = max(peak, current) }
        try? await Task.sleep(for: .milliseconds(sleepMs))
        lock.withLock { current -= 1 }
        return .ok(request.body)
    }
}
