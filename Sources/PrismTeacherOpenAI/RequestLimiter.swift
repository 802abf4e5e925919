/// A counting semaphore for async code: at most `limit` holders at once, waiters served in order.
/// Waiting is not cancellable: a permit comes free as soon as some request ends, and requests end
/// (with an error) when their own tasks are cancelled.
actor RequestLimiter {
    let limit: Int
    private(set) var inUse = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var head = 0

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func acquire() async {
        if inUse < limit {
            inUse += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
        // The releaser handed its permit over: inUse already counts this holder.
    }

    func release() {
        if head < waiters.count {
            let next = waiters[head]
            head += 1
            if head > 64 && head * 2 > waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
            next.resume()
        } else {
            inUse -= 1
        }
    }

    /// Runs `body` while holding a permit.
    nonisolated func withPermit<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        await acquire()
        let result = await body()
        await release()
        return result
    }
}
