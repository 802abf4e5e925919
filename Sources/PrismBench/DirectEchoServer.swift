import PrismWire
import ZeroMQ

/// The reference for the fleet benchmark: a ROUTER that answers the client protocol itself,
/// decoding the Envelope and encoding a Reply like a worker does, but with no broker between.
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
            guard frames.count >= 2, case .request(let envelope)? = try? ClientMessage.decode(frames.dropFirst()) else { continue }
            var reply = Reply(requestID: envelope.requestID, status: .ok, workerID: "direct")
            reply.body = envelope.body
            try? socket.send([frames[0]] + ClientResponse.reply(reply).frames, dontWait: true)
        }
    }
}
