import PrismWire

/// The worker's request bookkeeping as a plain value: what waits, what runs, when a batch starts and
/// what each request is answered. No sockets, no clocks (`now` is Unix milliseconds), no tasks: the
/// loop carries out the returned batches and replies.
///
/// Invariants: a request id is held once (a re-delivery of a held id is ignored); never more than
/// `capacity` requests run at once; every request taken is answered exactly once (its handler's
/// result, CANCELLED, or DEADLINE_EXCEEDED if it expired while waiting).
struct WorkerQueue {
    struct Limits: Equatable {
        var capacity = 1
        /// Requests handed to the handler in one call.
        var maxBatchSize = 1
        /// How long a partial batch may wait for more requests (0: never).
        var maxBatchWaitMs: Int64 = 0
    }

    let limits: Limits
    /// Requests received but not yet handed to the handler, oldest first.
    private(set) var waiting: [(envelope: Envelope, arrivedAt: Int64)] = []
    /// Requests with the handler, by id, with their cancellation flags.
    private(set) var running: [String: CancellationFlag] = [:]

    init(limits: Limits) {
        self.limits = Limits(capacity: max(1, limits.capacity), maxBatchSize: max(1, limits.maxBatchSize),
                             maxBatchWaitMs: max(0, limits.maxBatchWaitMs))
    }

    var held: Int { waiting.count + running.count }
    var isEmpty: Bool { waiting.isEmpty && running.isEmpty }

    /// A request from the broker; a reply when it is answered at once (its deadline has passed).
    mutating func accept(_ envelope: Envelope, now: Int64) -> (id: String, WorkResult)? {
        let id = envelope.requestID
        if running[id] != nil || waiting.contains(where: { $0.envelope.requestID == id }) { return nil }
        if envelope.deadlineUnixMs != 0 && envelope.deadlineUnixMs <= now {
            return (id, .failure(.deadlineExceeded, "deadline passed before the worker started"))
        }
        waiting.append((envelope, now))
        return nil
    }

    /// The broker cancels a request: a waiting one is answered CANCELLED now; a running one is flagged
    /// (its handler's result then becomes CANCELLED unless it fails otherwise).
    mutating func cancel(_ id: String) -> (id: String, WorkResult)? {
        if let index = waiting.firstIndex(where: { $0.envelope.requestID == id }) {
            waiting.remove(at: index)
            return (id, .failure(.cancelled, "cancelled before it started"))
        }
        running[id]?.cancel()
        return nil
    }

    /// The batches to hand to the handler now (each request moves from waiting to running): never
    /// more than `capacity` running, batches of at most `maxBatchSize`; a partial batch waits until
    /// its oldest request has waited `maxBatchWaitMs`.
    mutating func startBatches(now: Int64) -> [[WorkRequest]] {
        var batches: [[WorkRequest]] = []
        while !waiting.isEmpty && running.count < limits.capacity {
            let room = min(limits.maxBatchSize, limits.capacity - running.count)
            if waiting.count < room && limits.maxBatchSize > 1 && now - waiting[0].arrivedAt < limits.maxBatchWaitMs { break }
            let batch = waiting.prefix(room).map { WorkRequest(envelope: $0.envelope) }
            waiting.removeFirst(batch.count)
            for request in batch { running[request.requestID] = request.cancellation }
            batches.append(batch)
        }
        return batches
    }

    /// Every waiting request, for a handler that answers inline (capacity does not apply: nothing is
    /// left running).
    mutating func takeAllWaiting() -> [Envelope] {
        defer { waiting.removeAll(keepingCapacity: true) }
        return waiting.map(\.envelope)
    }

    /// The handler finished a batch: the replies to send (ids no longer running are dropped).
    mutating func completed(_ ids: [String], _ results: [WorkResult]) -> [(id: String, WorkResult)] {
        ids.enumerated().compactMap { index, id in
            guard let flag = running.removeValue(forKey: id) else { return nil }
            var result = index < results.count ? results[index] : .failure(.internal, "the handler returned too few results")
            if flag.isCancelled && result.status.code == .ok { result = .failure(.cancelled, "cancelled") }
            return (id, result)
        }
    }

    /// Waiting requests whose deadline passed: answered without running them.
    mutating func expire(now: Int64) -> [(id: String, WorkResult)] {
        func expired(_ entry: (envelope: Envelope, arrivedAt: Int64)) -> Bool {
            entry.envelope.deadlineUnixMs != 0 && entry.envelope.deadlineUnixMs <= now
        }
        guard waiting.contains(where: expired) else { return [] }
        let gone = waiting.filter(expired)
        waiting.removeAll(where: expired)
        return gone.map { ($0.envelope.requestID, .failure(.deadlineExceeded, "deadline passed while waiting")) }
    }

    /// When a waiting partial batch must start at the latest (nil: nothing waits for company).
    func batchDeadline() -> Int64? {
        guard let first = waiting.first, running.count < limits.capacity else { return nil }
        return first.arrivedAt + limits.maxBatchWaitMs
    }
}
