import ServiceLifecycle

/// The broker as a swift-service-lifecycle `Service`: routes until graceful shutdown, then stops
/// taking requests and waits up to `drainMs` for running ones.
public struct BrokerService: Service {
    public let server: BrokerServer
    public let drainMs: Int64
    let onStart: @Sendable (BrokerServer.Endpoints) -> Void

    public init(server: BrokerServer, drainMs: Int64 = 5_000, onStart: @escaping @Sendable (BrokerServer.Endpoints) -> Void = { _ in }) {
        self.server = server
        self.drainMs = drainMs
        self.onStart = onStart
    }

    public func run() async throws {
        let endpoints = try await server.start()
        onStart(endpoints)
        await withGracefulShutdownHandler {
            await server.join()
        } onGracefulShutdown: {
            server.shutdown(drainMs: drainMs)
        }
    }
}
