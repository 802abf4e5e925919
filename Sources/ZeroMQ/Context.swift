import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A libzmq context. Thread-safe (libzmq's contexts are), so it may be shared;
/// the sockets made from it are not and stay on the thread that made them.
public final class Context: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// - Parameter ioThreads: libzmq background I/O threads (1 is right for all but very high rates).
    public init(ioThreads: Int = 1) throws(ZeroMQError) {
        guard let handle = zmq_ctx_new() else { throw ZeroMQError.last("zmq_ctx_new") }
        self.handle = handle
        if zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(ioThreads)) != 0 {
            zmq_ctx_term(handle)
            throw ZeroMQError.last("zmq_ctx_set(ZMQ_IO_THREADS)")
        }
    }

    /// Shuts the context down: blocking calls on its sockets return `.terminated`.
    /// Sockets must still be closed by their owners; `deinit` then terminates.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    deinit {
        // Every socket holds a strong reference to its context, so all are closed by now.
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// Makes a socket of `type`; the caller's thread owns it.
    public func socket(_ type: SocketType) throws(ZeroMQError) -> Socket {
        try Socket(context: self, type: type)
    }
}
