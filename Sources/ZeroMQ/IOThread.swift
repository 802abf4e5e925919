import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread-safe queue of commands for a socket-owning thread, with a wake-up pipe that the
/// thread polls next to its sockets. Other threads `post`; the owner `take`s after waking.
public final class Mailbox<Command: Sendable>: Sendable {
    private let queue = Mutex<[Command]>([])
    public let wakeup: Wakeup

    public init() throws(ZeroMQError) {
        wakeup = try Wakeup()
    }

    /// Queues a command and wakes the owning thread.
    ///
    /// Only the post that finds the queue empty writes to the wake-up pipe: a later one joins a queue whose
    /// first command's byte is already on its way, and `take` drains the pipe *before* it empties the queue,
    /// so it collects every command appended up to then (a busy client posting from many tasks makes one
    /// system call per batch instead of one per call).
    public func post(_ command: Command) {
        let wasEmpty = queue.withLock { commands in
            let wasEmpty = commands.isEmpty
            commands.append(command)
            return wasEmpty
        }
        if wasEmpty { wakeup.signal() }
    }

    /// Takes every queued command, oldest first. Called by the owning thread.
    public func take() -> [Command] {
        wakeup.drain()
        return queue.withLock { commands in
            let taken = commands
            commands.removeAll(keepingCapacity: true)
            return taken
        }
    }
}

/// A dedicated OS thread (not the cooperative pool) for loops that block in `zmq_poll`,
/// with an async `join` for services that wait for it to end.
public final class IOThread: Sendable {
    private enum State {
        case running([CheckedContinuation<Void, Never>])
        case finished
    }

    private let state = Mutex<State>(.running([]))
    public let name: String

    /// Starts `body` on a new thread named `name`; the thread ends when `body` returns.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        let box = Unmanaged.passRetained(ThreadStart(name: name, body: body, thread: self))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 8 << 20)
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { raw in
            let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
            start.run()
            return nil
        }, box.toOpaque())
        pthread_attr_destroy(&attributes)
        if rc != 0 {
            // No thread: run the body here so the caller's loop still runs and ends.
            box.takeRetainedValue().run()
        } else {
            pthread_detach(thread)
        }
    }

    fileprivate func finished() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard case .running(let waiters) = state else { return [] }
            state = .finished
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the thread's body has returned.
    public func join() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                switch state {
                case .finished: return true
                case .running(var waiters):
                    waiters.append(continuation)
                    state = .running(waiters)
                    return false
                }
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// True once the body has returned.
    public var isFinished: Bool {
        state.withLock { if case .finished = $0 { return true } else { return false } }
    }
}

private final class ThreadStart: @unchecked Sendable {
    let name: String
    let body: @Sendable () -> Void
    let thread: IOThread

    init(name: String, body: @escaping @Sendable () -> Void, thread: IOThread) {
        self.name = name
        self.body = body
        self.thread = thread
    }

    func run() {
        body()
        thread.finished()
    }
}
