import PrismWire
import ZeroMQ

/// The reference for the fleet benchmark: a ROUTER that answers the client protocol itself,
/// decoding the Envelope and encoding a Reply like a worker does, but with no broker between.
/// A request is its last three frames (protocol tag, command, body); whatever comes before is
/// the routing stack (one frame from a client, two through `ForwardingProxy`), sent back as is.
public enum DirectEchoServer {
    /// Binds `endpoint`, calls `ready` with the bound endpoint, then echoes forever.
    public static func run(bind endpoint: String, ready: (String) -> Void) throws {
        let context = try Context()
        let socket = try context.socket(.router)
        try socket.setHighWaterMarks(send: 100_000, receive: 100_000)
        try socket.bind(endpoint)
        ready(try socket.lastEndpoint())
        while true {
            let frames = try socket.receive()
            guard frames.count >= 4, case .request(let envelope)? = try? ClientMessage.decode(frames.suffix(3)) else { continue }
            var reply = Reply(requestID: envelope.requestID, status: .ok, workerID: "direct")
            reply.body = envelope.body
            try? socket.send(Array(frames.dropLast(3)) + ClientResponse.reply(reply).frames, dontWait: true)
        }
    }
}

/// The other reference of the fleet benchmark: libzmq's own `zmq_proxy` between a ROUTER for the
/// clients and a DEALER connected to the direct echo servers (round robin). Same hops as the
/// broker, none of its work: the floor for a broker built on libzmq.
public enum ForwardingProxy {
    public static func run(bind endpoint: String, servers: [String], ready: (String) -> Void) throws {
        let context = try Context()
        let frontend = try context.socket(.router)
        let backend = try context.socket(.dealer)
        for socket in [frontend, backend] { try socket.setHighWaterMarks(send: 100_000, receive: 100_000) }
        try frontend.bind(endpoint)
        for server in servers { try backend.connect(server) }
        ready(try frontend.lastEndpoint())
        try runProxy(frontend: frontend, backend: backend)
    }
}
