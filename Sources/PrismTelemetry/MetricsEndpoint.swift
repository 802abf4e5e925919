import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Serves the Prometheus text format at `GET /metrics` over HTTP/1.1, with probes for orchestrators:
/// `GET /healthz` (the process answers: liveness) and `GET /readyz` (200 when `ready` says so, else
/// 503: readiness, e.g. a worker that a broker has heard).
public struct MetricsEndpoint: Service {
    public let host: String
    public let port: Int
    let registry: PrometheusCollectorRegistry
    let ready: @Sendable () -> Bool
    let logger: Logger

    public init(host: String = "127.0.0.1", port: Int, registry: PrometheusCollectorRegistry,
                ready: @escaping @Sendable () -> Bool = { true }, logger: Logger = Logger(label: "prism.metrics")) {
        self.host = host
        self.port = port
        self.registry = registry
        self.ready = ready
        self.logger = logger
    }

    public func run() async throws {
        let registry = self.registry, ready = self.ready
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(MetricsHTTPHandler(registry: registry, ready: ready))
                }
            }
            .bind(host: host, port: port).get()
        logger.info("metrics endpoint listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

final class MetricsHTTPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let registry: PrometheusCollectorRegistry
    let ready: @Sendable () -> Bool

    init(registry: PrometheusCollectorRegistry, ready: @escaping @Sendable () -> Bool) {
        self.registry = registry
        self.ready = ready
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        let (status, contentType, body): (HTTPResponseStatus, String, [UInt8])
        switch (request.method, request.uri.split(separator: "?").first ?? "") {
        case (.GET, "/metrics"):
            (status, contentType, body) = (.ok, "text/plain; version=0.0.4; charset=utf-8", registry.emitToBuffer())
        case (.GET, "/healthz"):
            (status, contentType, body) = (.ok, "text/plain", Array("ok\n".utf8))
        case (.GET, "/readyz"):
            (status, contentType, body) = ready() ? (.ok, "text/plain", Array("ready\n".utf8))
                : (.serviceUnavailable, "text/plain", Array("not ready\n".utf8))
        default:
            (status, contentType, body) = (.notFound, "text/plain", Array("not found\n".utf8))
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
