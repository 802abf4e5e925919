import ArgumentParser
import Logging
import PrismClient
import PrismGateway
import PrismTelemetry
import ServiceLifecycle

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve HTTP/JSON in front of the broker: POST /v1/explain, POST /v1/services/SERVICE:call, GET /v1/health, GET /metrics.",
        discussion: "The API is described in docs/openapi.yaml. Fleet statuses map to HTTP codes (INVALID_ARGUMENT 400, NOT_FOUND 404, RESOURCE_EXHAUSTED 429 with Retry-After, UNAVAILABLE 503, DEADLINE_EXCEEDED 504); errors are JSON."
    )

    @Option(help: "host:port to listen on (port 0: a free one, named in the ready line).") var listen = "127.0.0.1:8080"
    @Option(help: "The broker's frontend endpoint (several, comma-separated: failover in that order).") var broker = "tcp://127.0.0.1:5555"
    @OptionGroup var curve: CurveOptions
    @Option(help: "The service POST /v1/explain calls (?service= may name another prism.explain… service).") var explainService = "prism.explain"
    @Option(help: "Deadline in milliseconds of calls without a Prism-Timeout-Ms header.") var timeoutMs: Int64 = 30_000
    @Option(help: "The longest deadline a Prism-Timeout-Ms header may ask for.") var maxTimeoutMs: Int64 = 300_000
    @Option(help: "Largest request body in bytes (413 above).") var maxBodyBytes = 1 << 20
    @Option(help: "Milliseconds a request may take to arrive (and a keep-alive connection may stay idle).") var readTimeoutMs: Int64 = 10_000
    @Option(help: "Open connections at most (more are closed as they are accepted).") var maxConnections = 1_024
    @Option(help: "Calls in flight at most (more get 429).") var maxInFlight = 1_024
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard parsedListen != nil else { throw ValidationError("--listen must be host:port, got '\(listen)'") }
        guard timeoutMs > 0, maxTimeoutMs >= timeoutMs else { throw ValidationError("--timeout-ms must be positive and at most --max-timeout-ms") }
        guard maxBodyBytes > 0, readTimeoutMs > 0, maxConnections > 0, maxInFlight > 0 else {
            throw ValidationError("--max-body-bytes, --read-timeout-ms, --max-connections and --max-in-flight must be positive")
        }
    }

    var parsedListen: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        let host = String(listen[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        let registry = Telemetry.bootstrap(logLevel: common.level)
        let logger = Logger(label: "prism.gateway")
        guard let (host, port) = parsedListen else { throw ValidationError("--listen must be host:port") }
        var clientConfiguration = ClientConfiguration(broker: broker, curve: try curve.clientKeys())
        clientConfiguration.defaultTimeoutMs = timeoutMs
        let client = try PrismClient(configuration: clientConfiguration, logger: logger)
        var configuration = GatewayConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.maxBodyBytes = maxBodyBytes
        configuration.readTimeoutMs = readTimeoutMs
        configuration.maxConnections = maxConnections
        configuration.maxInFlight = maxInFlight
        configuration.router = GatewayRouter(explainService: explainService, defaultTimeoutMs: timeoutMs, maxTimeoutMs: maxTimeoutMs)
        let brokers = clientConfiguration.brokers.joined(separator: ",")
        let server = GatewayServer(configuration: configuration, client: client, registry: registry, logger: logger) { address in
            // One machine-readable line, for scripts and tests that listen on port 0.
            emitLine("prism gateway ready listen=\(address) broker=\(brokers)")
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await client.close()
    }
}
