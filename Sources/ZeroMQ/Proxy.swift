import CZeroMQ

/// libzmq's built-in forwarder (`zmq_proxy`): moves every message from `frontend` to `backend`
/// and back, on the calling thread, until the context is terminated. No logic, no decoding:
/// the floor for what any broker between two socket hops can cost.
public func runProxy(frontend: Socket, backend: Socket) throws(ZeroMQError) {
    guard let f = frontend.raw, let b = backend.raw else {
        throw ZeroMQError.invalidArgument("the proxy's sockets must be open")
    }
    if zmq_proxy(f, b, nil) != 0 { throw ZeroMQError.last("zmq_proxy") }
}
