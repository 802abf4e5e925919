import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Waits for input on several sockets and plain file descriptors at once (`zmq_poll`).
/// Build it once on the owning thread with the items in a fixed order; the index of an item
/// is its position in the order it was added.
public struct Poller {
    private var items: [zmq_pollitem_t] = []

    public init() {}

    /// Adds a socket to watch for input; returns its index.
    @discardableResult
    public mutating func add(_ socket: Socket) -> Int {
        items.append(zmq_pollitem_t(socket: socket.raw, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0))
        return items.count - 1
    }

    /// Adds a file descriptor to watch for input; returns its index.
    @discardableResult
    public mutating func add(fileDescriptor: Int32) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: Int16(ZMQ_POLLIN), revents: 0))
        return items.count - 1
    }

    /// Waits up to `timeoutMs` (-1 forever, 0 not at all); returns how many items are ready.
    /// An interrupted wait (EINTR) returns 0.
    @discardableResult
    public mutating func poll(timeoutMs: Int) throws(ZeroMQError) -> Int {
        for i in items.indices { items[i].revents = 0 }
        let count = items.count
        let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, Int32(count), timeoutMs) }
        if rc < 0 {
            if zmq_errno() == EINTR { return 0 }
            throw ZeroMQError.last("zmq_poll")
        }
        return Int(rc)
    }

    /// True when the item at `index` had input at the last `poll`.
    public func isReadable(_ index: Int) -> Bool {
        items[index].revents & Int16(ZMQ_POLLIN) != 0
    }
}

/// A self-pipe that wakes a thread blocked in `Poller.poll` from any other thread.
public final class Wakeup: Sendable {
    public let readDescriptor: Int32
    private let writeDescriptor: Int32

    public init() throws(ZeroMQError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            let code = errno
            throw ZeroMQError.call(operation: "pipe", errno: code, message: String(cString: strerror(code)))
        }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
    }

    deinit {
        Glibc.close(readDescriptor)
        Glibc.close(writeDescriptor)
    }

    /// Wakes the poller (a full pipe already means "awake", so EAGAIN is fine).
    public func signal() {
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }

    /// Empties the pipe; call on the polling thread after it woke.
    public func drain() {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer in
            while read(readDescriptor, buffer.baseAddress, buffer.count) > 0 {}
        }
    }
}
