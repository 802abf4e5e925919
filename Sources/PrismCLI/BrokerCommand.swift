import ArgumentParser
import Logging
import PrismBroker
import PrismTelemetry
import ServiceLifecycle

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the broker: clients connect to the frontend, workers to the backend."
    )

    @Option(help: "Endpoint for clients (tcp://, ipc:// or inproc://).") var frontend = "tcp://*:5555"
    @Option(help: "Endpoint for workers.") var backend = "tcp://*:5556"
    @Option(help: "Serve Prometheus metrics over HTTP on this port (0: off).") var metricsPort = 0
    @Option(help: "The address the metrics endpoint listens on (loopback by default; 0.0.0.0 exposes it on every interface).")
    var metricsHost = "127.0.0.1"
    @Option(help: "Heartbeat interval in milliseconds.") var heartbeatMs: Int64 = 1_000
    @Option(help: "Missed heartbeats before a worker is dead.") var liveness: Int64 = 3
    @Option(help: "Queued requests per service before RESOURCE_EXHAUSTED.") var maxQueue = 10_000
    @Option(help: "Re-dispatches of one request after lost workers.") var maxRedispatch = 3
    @Option(help: "Milliseconds a request waits for a service with no workers before UNAVAILABLE.") var graceMs: Int64 = 2_000
    @Option(help: "Largest accepted body frame in bytes.") var maxBodyBytes = 4 << 20
    @Option(help: "On shutdown, milliseconds to wait for running requests.") var drainMs: Int64 = 5_000
    @OptionGroup var security: BrokerSecurityOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let registry = Telemetry.bootstrap(logLevel: common.level)
        let logger = Logger(label: "prism.broker")
        var config = BrokerConfiguration()
        config.heartbeatIntervalMs = heartbeatMs
        config.heartbeatLiveness = liveness
        config.maxQueuedPerService = maxQueue
        config.maxRedispatches = maxRedispatch
        config.unavailableGraceMs = graceMs
        config.maxBodyBytes = maxBodyBytes
        let curve = try security.load()
        config.access = curve?.1
        if let policy = curve?.1 {
            logger.info("CURVE on", metadata: ["client_keys": "\(policy.clients.grants.count)", "worker_keys": "\(policy.workers.grants.count)"])
        }
        let server = try BrokerServer(configuration: config, frontend: frontend, backend: backend, curve: curve?.0, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: BrokerService(server: server, drainMs: drainMs) { endpoints in
                // One machine-readable line, for scripts that bind port 0.
                emitLine("prism broker ready frontend=\(endpoints.frontend) backend=\(endpoints.backend)")
            }),
        ]
        if metricsPort > 0 {
            services.append(.init(service: MetricsEndpoint(host: metricsHost, port: metricsPort, registry: registry), successTerminationBehavior: .ignore))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
