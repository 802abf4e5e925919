import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import PrismClient
import ServiceLifecycle
import Synchronization

/// The gateway's limits. Every input that could grow its state has a bound here.
public struct GatewayConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0: a free port (the ready line names it).
    public var port = 8080
    /// Request bodies above this get 413 (also when `Content-Length` announces more).
    public var maxBodyBytes = 1 << 20
    /// A request's head and body must arrive within this time of its first byte, and an idle
    /// keep-alive connection is closed after it (slow clients hold no connection for ever).
    public var readTimeoutMs: Int64 = 10_000
    /// Connections beyond this are closed as they are accepted.
    public var maxConnections = 1_024
    /// Calls to the fleet in flight at once; more get 429 with `Retry-After`.
    public var maxInFlight = 1_024
    public var router = GatewayRouter()

    public init() {}
}

/// `prism gateway`: HTTP/1.1 and JSON in front of the broker, for ranking services that do not speak
/// ZeroMQ. A `Service`: it runs until its ServiceGroup shuts it down.
public struct GatewayServer: Service {
    let configuration: GatewayConfiguration
    let handler: GatewayHandler
    let logger: Logger
    /// Called once with the bound address (`host:port`) when the gateway listens.
    let onReady: @Sendable (String) -> Void

    public init(configuration: GatewayConfiguration, client: PrismClient, registry: PrometheusCollectorRegistry,
                logger: Logger = Logger(label: "prism.gateway"), onReady: @escaping @Sendable (String) -> Void = { _ in }) {
        self.configuration = configuration
        self.handler = GatewayHandler(client: client, registry: registry, configuration: configuration)
        self.logger = logger
        self.onReady = onReady
    }

    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let address = server.channel.localAddress.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? configuration.port)" } ?? "?"
        logger.info("gateway listening", metadata: ["address": "\(address)"])
        onReady(address)
        let connections = OpenConnections()
        let limit = configuration.maxConnections
        let handler = self.handler, readTimeoutMs = configuration.readTimeoutMs, maxBody = configuration.maxBodyBytes
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        guard connections.open(limit: limit) else {
                            // Closed unanswered; executeThenClose also finishes its writer, as NIO requires.
                            try? await connection.executeThenClose { _, _ in }
                            continue
                        }
                        group.addTask {
                            await GatewayConnection(channel: connection, handler: handler, readTimeoutMs: readTimeoutMs,
                                                    maxBodyBytes: maxBody).run()
                            connections.close()
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
    }
}

/// How many connections are open, against the limit.
final class OpenConnections: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts a new connection unless `limit` are open already.
    func open(limit: Int) -> Bool {
        guard count.add(1, ordering: .relaxed).newValue <= limit else {
            count.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func close() { count.subtract(1, ordering: .relaxed) }
}

/// One client connection: requests read one at a time (keep-alive), each answered before the next.
struct GatewayConnection {
    let channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    let handler: GatewayHandler
    let readTimeoutMs: Int64
    let maxBodyBytes: Int

    func run() async {
        let raw = channel.channel
        try? await channel.executeThenClose { inbound, outbound in
            var parts = inbound.makeAsyncIterator()
            while true {
                // The whole request (or the idle wait before it) must arrive in time: else the
                // connection is closed, which ends the read below.
                let timer = raw.eventLoop.scheduleTask(in: .milliseconds(readTimeoutMs)) { raw.close(promise: nil) }
                let read = try await RequestReader.read(&parts, maxBodyBytes: maxBodyBytes)
                timer.cancel()
                guard let read else { return }
                let response: GatewayResponse
                var keepAlive = true
                switch read {
                case .complete(let head, let body):
                    keepAlive = head.isKeepAlive
                    response = await handler.respond(head: head, body: body)
                case .tooLarge(let head):
                    keepAlive = false  // the rest of the body is not read
                    response = .problem(GatewayProblem(httpStatus: 413, status: "RESOURCE_EXHAUSTED",
                                                       message: "the body is larger than \(maxBodyBytes) bytes"), version: head.version)
                }
                try await response.write(to: outbound, keepAlive: keepAlive)
                if !keepAlive { return }
            }
        }
    }
}

/// Collects one request's head and body, refusing bodies above the limit.
enum RequestReader {
    enum Read {
        case complete(HTTPRequestHead, [UInt8])
        case tooLarge(HTTPRequestHead)
    }

    /// nil when the connection ended before a request began (or mid-request).
    static func read(_ parts: inout NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator, maxBodyBytes: Int) async throws -> Read? {
        guard case .head(let head)? = try await parts.next() else { return nil }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxBodyBytes {
            return .tooLarge(head)
        }
        var body: [UInt8] = []
        while let part = try await parts.next() {
            switch part {
            case .head: return nil  // a second head before this request ended: the decoder forbids it
            case .body(let buffer):
                guard body.count + buffer.readableBytes <= maxBodyBytes else { return .tooLarge(head) }
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                return .complete(head, body)
            }
        }
        return nil
    }
}
