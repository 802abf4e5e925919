import PrismWire

extension BrokerState {
    // MARK: Workers

    /// A message from a worker on the backend; `key` is the CURVE key its connection authenticated
    /// with (nil on a plain socket). `encoded` is a reply's body frame as received, which the broker
    /// keeps for replays when it forwards the reply unchanged (it does unless the worker id is empty).
    public mutating func handle(worker id: PeerID, key: String? = nil, _ message: WorkerMessage, encoded: [UInt8]? = nil,
                                now: Int64) -> [BrokerAction] {
        // One lookup per message: the index addresses the worker until `workers` changes.
        guard let index = workers.index(forKey: id) else { return unknownWorker(id, key: key, message, now: now) }
        // A routing id taken over by another key is not that worker.
        guard workers.values[index].key == key else { return [.event(.unknownWorker(id, command: message.commandName))] }
        workers.values[index].lastSeen = now
        switch message {
        case .ready:
            // READY twice is a protocol error: drop the worker, it will reconnect cleanly.
            return removeWorker(id, reason: "sent READY twice", now: now)
                + [.disconnect(worker: id, reason: "protocol error: READY from a registered worker")]
        case .heartbeat(let heartbeat):
            if heartbeat.draining { workers.values[index].draining = true }
            return []
        case .reply(let reply):
            return workerReplied(id, at: index, reply, encoded: encoded, now: now)
        case .disconnect(let disconnect):
            return removeWorker(id, reason: "disconnected: \(disconnect.reason)", now: now)
        }
    }

    mutating func unknownWorker(_ id: PeerID, key: String?, _ message: WorkerMessage, now: Int64) -> [BrokerAction] {
        switch message {
        case .ready(let ready):
            return register(id, key: key, ready, now: now)
        case .disconnect:
            return []
        case .heartbeat, .reply:
            // Typically a worker from before a broker restart: make it register again.
            return [.event(.unknownWorker(id, command: message.commandName)),
                    .disconnect(worker: id, reason: "unknown worker: send READY")]
        }
    }

    mutating func register(_ id: PeerID, key: String? = nil, _ ready: Ready, now: Int64) -> [BrokerAction] {
        guard !ready.service.isEmpty else { return [.disconnect(worker: id, reason: "READY names no service")] }
        guard ready.capacity >= 1 else { return [.disconnect(worker: id, reason: "READY capacity must be at least 1")] }
        if let access = configuration.access {
            // A worker receives its service's requests (users' histories): only granted keys serve.
            guard let key, access.mayServe(key, ready.service) else {
                let who = key.map { "key \($0.prefix(8))…" } ?? "an unauthenticated worker"
                return [.refuseWorker(id, reason: "\(who) may not register service '\(ready.service)'")]
            }
        }
        let capacity = Int(min(ready.capacity, 4096))
        workers[id] = WorkerState(service: ready.service, key: key, name: ready.workerID, capacity: capacity, lastSeen: now)
        var service = services[ready.service] ?? ServiceState()
        service.lru.append(id)
        service.emptySince = nil
        services[ready.service] = service
        return [.event(.workerRegistered(id, service: ready.service, capacity: capacity, name: ready.workerID))]
            + dispatch(service: ready.service, now: now)
    }

    /// `index` is the worker's entry in `workers`.
    mutating func workerReplied(_ worker: PeerID, at index: Dictionary<PeerID, WorkerState>.Index, _ reply: Reply,
                                encoded: [UInt8]? = nil, now: Int64) -> [BrokerAction] {
        let id = reply.requestID
        let serviceName = workers.values[index].service
        let held = workers.values[index].holding.remove(id) != nil
        var actions: [BrokerAction]
        if held, let request = requests.index(forKey: id), requests.values[request].phase == .running(worker: worker) {
            if reply.workerID.isEmpty {
                var answer = reply
                answer.workerID = workers.values[index].name
                actions = finish(at: request, answer, now: now)
            } else {
                actions = finish(at: request, reply, encoded: encoded, now: now)
            }
        } else {
            // Already answered (deadline, cancel) or never ours: exactly one reply per id.
            actions = [.event(.lateReplyDropped(requestID: id, worker: worker))]
        }
        dispatch(service: serviceName, now: now, into: &actions)
        return actions
    }

    /// Forgets a worker and re-dispatches what it held (up to the re-dispatch limit).
    mutating func removeWorker(_ id: PeerID, reason: String, now: Int64) -> [BrokerAction] {
        guard let worker = workers.removeValue(forKey: id) else { return [] }
        let name = worker.service
        var service = services[name] ?? ServiceState()
        service.lru.removeAll { $0 == id }
        if service.lru.isEmpty { service.emptySince = now }
        services[name] = service
        var actions: [BrokerAction] = [.event(.workerLost(id, service: name, reason: reason, inFlight: worker.holding.count))]
        // Oldest first, so that pushing each to the front keeps their original order.
        let lost = worker.holding.compactMap { requestID -> (String, PendingRequest)? in
            guard let request = requests[requestID], request.phase == .running(worker: id) else { return nil }
            return (requestID, request)
        }.sorted { $0.1.receivedAt > $1.1.receivedAt }
        for (requestID, var request) in lost {
            if request.dispatches > configuration.maxRedispatches {
                actions += finish(requestID, Reply(requestID: requestID, status: .unavailable,
                    message: "lost \(request.dispatches) workers while handling the request (limit \(configuration.maxRedispatches) re-dispatches)"), now: now)
                continue
            }
            request.phase = .queued
            requests[requestID] = request
            services[name]?.inFlight -= 1
            services[name]?.queued += 1
            services[name]?.queue.pushFront(requestID)
            actions.append(.event(.redispatched(requestID: requestID, service: name, attempt: request.dispatches + 1)))
        }
        pruneIfIdle(name)
        return actions + dispatch(service: name, now: now)
    }

    // MARK: Time

    /// Call often (every few milliseconds of the loop): expires deadlines, answers requests for
    /// services without workers after the grace period, sends heartbeats and buries silent workers.
    public mutating func tick(now: Int64) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        while let id = deadlines.popDue(now: now) {
            guard let request = requests[id], request.envelope.deadlineUnixMs <= now else { continue }
            let reply: Reply
            switch request.phase {
            case .running(let worker):
                actions.append(.cancel(worker: worker, requestID: id))
                reply = Reply(requestID: id, status: .deadlineExceeded,
                              message: "deadline exceeded after \(now - request.receivedAt) ms while a worker was handling it")
            case .queued where services[request.envelope.service]?.lru.isEmpty ?? true:
                reply = Reply(requestID: id, status: .unavailable,
                              message: "no worker for service '\(request.envelope.service)' before the deadline")
            case .queued:
                reply = Reply(requestID: id, status: .deadlineExceeded,
                              message: "deadline exceeded after \(now - request.receivedAt) ms in the queue")
            }
            actions += finish(id, reply, now: now)
        }
        actions += expireUnserved(now: now)
        if now - lastHeartbeatAt >= configuration.heartbeatIntervalMs {
            lastHeartbeatAt = now
            let expiry = configuration.workerExpiryMs
            for (id, worker) in workers where now - worker.lastSeen > expiry {
                actions += removeWorker(id, reason: "missed \(configuration.heartbeatLiveness) heartbeats", now: now)
            }
            for id in workers.keys { actions.append(.heartbeat(worker: id)) }
        }
        return actions
    }

    /// Requests for services that have had no worker for the grace period get UNAVAILABLE.
    mutating func expireUnserved(now: Int64) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        for (name, service) in services where service.queued > 0 {
            guard let emptySince = service.emptySince else { continue }
            var queue = service.queue
            while let id = queue.entries.first {
                guard let request = requests[id], request.phase == .queued else {
                    _ = queue.popFront()  // stale
                    continue
                }
                let waitingSince = max(emptySince, request.receivedAt)
                guard now - waitingSince >= configuration.unavailableGraceMs else { break }
                _ = queue.popFront()
                actions += finish(id, Reply(requestID: id, status: .unavailable,
                    message: "no worker for service '\(name)' within \(configuration.unavailableGraceMs) ms"), now: now)
            }
            services[name]?.queue = queue
        }
        return actions
    }

    /// When `tick` next has something to do (the loop may sleep until then).
    public func nextTimer(now: Int64) -> Int64 {
        var next = lastHeartbeatAt + configuration.heartbeatIntervalMs
        if let deadline = deadlines.next { next = min(next, deadline) }
        for service in services.values where service.queued > 0 {
            if let emptySince = service.emptySince { next = min(next, emptySince + configuration.unavailableGraceMs) }
        }
        return max(now, next)
    }

    // MARK: Introspection (tests, health, metrics)

    /// Requests waiting and running, over all services.
    public var pendingCount: Int { requests.count }
    public var workerCount: Int { workers.count }
    /// Deadline timers held (live ones and answered ones not yet compacted away).
    public var pendingTimers: Int { deadlines.count }

    public func queued(_ service: String) -> Int { services[service]?.queued ?? 0 }
    public func inFlight(_ service: String) -> Int { services[service]?.inFlight ?? 0 }
    public func holding(_ worker: PeerID) -> Int { workers[worker]?.holding.count ?? 0 }
    public var serviceNames: [String] { services.keys.sorted() }
}

extension WorkerMessage {
    var commandName: String {
        switch self {
        case .ready: return "READY"
        case .reply: return "REPLY"
        case .heartbeat: return "HEARTBEAT"
        case .disconnect: return "DISCONNECT"
        }
    }
}
