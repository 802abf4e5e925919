import Dispatch
import Synchronization

/// A dedicated OS thread that owns one value (a model, its scratch, its tokenizer) and runs work on it,
/// one job at a time, so long computations never block Swift's cooperative pool and the value is never
/// shared between threads. The value is made on the thread and never leaves it.
public final class OwnedThread<Owned>: @unchecked Sendable {
    // @unchecked: `Owned` is only touched on the thread; everything shared is behind the mutex.
    private typealias Job = @Sendable (Owned) -> Void

    private final class Queue: Sendable {
        let state = Mutex<(jobs: [Job], closed: Bool)>(([], false))
        let signal = DispatchSemaphore(value: 0)
    }

    private let queue = Queue()
    private let thread: IOThread

    /// Makes the value on a new thread named `name`; rethrows `make`'s error (and the thread ends).
    public init(name: String, make: @escaping @Sendable () throws -> Owned) async throws {
        let queue = self.queue
        let (stream, report) = AsyncStream<Result<Void, any Error>>.makeStream()
        thread = IOThread(name: name) {
            let owned: Owned
            do {
                owned = try make()
            } catch {
                report.yield(.failure(error))
                report.finish()
                return
            }
            report.yield(.success(()))
            report.finish()
            while true {
                queue.signal.wait()
                let next = queue.state.withLock { state -> Job?? in
                    if !state.jobs.isEmpty { return .some(state.jobs.removeFirst()) }
                    return state.closed ? .none : .some(nil)
                }
                guard let job = next else { return }  // closed and drained
                job?(owned)
            }
        }
        var loaded: Result<Void, any Error> = .success(())
        for await value in stream { loaded = value }
        try loaded.get()
    }

    /// Runs `work` on the thread with the owned value; nil once the thread is closed.
    public func run<Result: Sendable>(_ work: @escaping @Sendable (Owned) -> Result) async -> Result? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result?, Never>) in
            let accepted = queue.state.withLock { state -> Bool in
                guard !state.closed else { return false }
                state.jobs.append { owned in continuation.resume(returning: work(owned)) }
                return true
            }
            if accepted { queue.signal.signal() } else { continuation.resume(returning: nil) }
        }
    }

    /// Finishes the queued jobs, then ends the thread.
    public func close() async {
        queue.state.withLock { $0.closed = true }
        queue.signal.signal()
        await thread.join()
    }
}
