import PrismSecurity
import PrismWire

/// What the broker's socket loop must do after feeding an input to the state machine.
public enum BrokerAction: Equatable, Sendable {
    /// Answer a client: the one reply for `reply.requestID`.
    case reply(to: PeerID, Reply, service: String, elapsedMs: Int64)
    /// Answer a client's health request.
    case health(to: PeerID, HealthReply)
    /// Hand a request to a worker.
    case dispatch(to: PeerID, Envelope)
    /// Tell a worker to stop working on a request.
    case cancel(worker: PeerID, requestID: String)
    case heartbeat(worker: PeerID)
    case disconnect(worker: PeerID, reason: String)
    /// Refuse a worker for good (its key may not register that service): it must not retry.
    case refuseWorker(PeerID, reason: String)
    /// Something worth a log line or a metric; nothing to send.
    case event(BrokerEvent)
}

/// Notable things the state machine saw, for logs and metrics.
public enum BrokerEvent: Equatable, Sendable {
    case workerRegistered(PeerID, service: String, capacity: Int, name: String)
    case workerLost(PeerID, service: String, reason: String, inFlight: Int)
    case redispatched(requestID: String, service: String, attempt: Int)
    case retryAbsorbed(requestID: String)
    case replayed(requestID: String)
    case lateReplyDropped(requestID: String, worker: PeerID)
    case unknownWorker(PeerID, command: String)
}

/// The broker's routing logic as a plain value: no sockets, no clocks. Each input returns the
/// actions to carry out; `now` is milliseconds since the Unix epoch (deadlines are absolute).
///
/// Invariants:
/// - every request id accepted from a client is answered exactly once (a worker's reply, or the
///   broker's own DEADLINE_EXCEEDED / CANCELLED / UNAVAILABLE / RESOURCE_EXHAUSTED);
/// - a request, its replay and its cancel belong to the client connection (routing id) that sent it,
///   and under CURVE also to the key it authenticated with: another client that uses the same request
///   id never receives that reply or cancels that request (request ids are chosen by clients and are
///   not secrets; a client keeps its routing id across reconnects, so its own re-sends are still
///   absorbed and answered once);
/// - under an access policy, a client key only reaches (and sees the health of) the services it is
///   granted, and a worker key only registers for those it is granted;
/// - a worker never holds more requests than its declared capacity;
/// - idle capacity is handed out least-recently-used worker first.
public struct BrokerState: Sendable {
    public let configuration: BrokerConfiguration
    let startedAt: Int64

    var requests: [String: PendingRequest] = [:]
    var services: [String: ServiceState] = [:]
    var workers: [PeerID: WorkerState] = [:]
    var deadlines = TimerHeap()
    var replay: ReplayCache<Answered>
    var lastHeartbeatAt: Int64

    public init(configuration: BrokerConfiguration = BrokerConfiguration(), now: Int64) {
        self.configuration = configuration
        self.startedAt = now
        self.lastHeartbeatAt = now
        self.replay = ReplayCache(capacity: configuration.replayCacheSize, maxBytes: configuration.replayCacheBytes)
    }

    /// A reply kept for re-sends, with the client it belongs to. Kept encoded: one buffer per entry
    /// (for a forwarded reply, the worker's frame itself) instead of a message's strings, dictionary and
    /// body, so that inserting and evicting one of the tens of thousands held costs a single release.
    struct Answered: Sendable, ReplayCost {
        var client: PeerID
        var key: String?
        var encoded: [UInt8]

        var replayBytes: Int { encoded.count + client.bytes.count + 256 }
        /// The reply again (decoding what the broker encoded cannot fail).
        var reply: Reply { (try? Reply(serializedBytes: encoded)) ?? Reply() }
    }

    struct PendingRequest: Sendable {
        enum Phase: Sendable, Equatable {
            case queued
            case running(worker: PeerID)
        }
        var envelope: Envelope
        var client: PeerID
        /// The CURVE key the client authenticated with (nil without authentication).
        var key: String?
        var phase: Phase
        var receivedAt: Int64
        /// How many workers it was handed to so far.
        var dispatches: Int
    }

    struct ServiceState: Sendable {
        var queue = RequestQueue()
        var queued = 0
        var inFlight = 0
        /// Workers in least-recently-used order: the front got work longest ago.
        var lru: [PeerID] = []
        /// When the service last had no workers (nil while it has some).
        var emptySince: Int64?

        mutating func enqueue(_ id: String) {
            queue.pushBack(id)
            queued += 1
        }

        /// No worker, nothing waiting or running: the entry can go.
        var isIdle: Bool { lru.isEmpty && queued == 0 && inFlight == 0 }
    }

    struct WorkerState: Sendable {
        var service: String
        /// The CURVE key the worker registered with (nil without authentication).
        var key: String? = nil
        var name: String
        var capacity: Int
        var holding: Set<String> = []
        var lastSeen: Int64
        var draining = false
        var free: Int { draining ? 0 : capacity - holding.count }
    }

    // MARK: Clients

    /// A request, cancel or health request from a client; `key` is the CURVE key its connection
    /// authenticated with (nil on a plain socket).
    public mutating func handle(client: PeerID, key: String? = nil, _ message: ClientMessage, now: Int64) -> [BrokerAction] {
        switch message {
        case .request(let envelope): return accept(client: client, key: key, envelope, now: now)
        case .cancel(let cancel): return cancelRequest(cancel.requestID, client: client, key: key, now: now)
        case .health(let request):
            var reply = health(request, now: now)
            // Under an access policy a client sees only the services its key may call.
            if configuration.access != nil { reply.services.removeAll { authorization(key: key, service: $0.service) != nil } }
            return [.health(to: client, reply)]
        }
    }

    /// A message from a client that could not be decoded: answer it if it names a request.
    public func reject(client: PeerID, requestID: String, code: StatusCode, message: String) -> [BrokerAction] {
        [.reply(to: client, Reply(requestID: requestID, status: code, message: message), service: "", elapsedMs: 0)]
    }

    mutating func accept(client: PeerID, key: String? = nil, _ envelope: Envelope, now: Int64) -> [BrokerAction] {
        let id = envelope.requestID
        guard !id.isEmpty else {
            return reject(client: client, requestID: "", code: .invalidArgument, message: "request_id is empty")
        }
        guard !envelope.service.isEmpty else {
            return reject(client: client, requestID: id, code: .invalidArgument, message: "service is empty")
        }
        if let problem = metadataProblem(envelope.metadata) {
            return reject(client: client, requestID: id, code: .invalidArgument, message: problem)
        }
        if let refusal = authorization(key: key, service: envelope.service) {
            return reject(client: client, requestID: id, code: refusal.code, message: refusal.message)
        }
        // The client's own answered request is replayed, even while another client's request with the
        // same id runs.
        if let answered = replay[id], answered.client == client, answered.key == key {
            return [.event(.replayed(requestID: id)), .reply(to: client, answered.reply, service: envelope.service, elapsedMs: 0)]
        }
        if let held = requests[id] {
            // A re-send of a request we hold runs once; the same id from another client is refused,
            // and that client learns nothing of the request it names.
            guard held.client == client, held.key == key else {
                return reject(client: client, requestID: id, code: .alreadyExists,
                              message: "request id '\(id)' is in use; send each request with a fresh id")
            }
            return [.event(.retryAbsorbed(requestID: id))]
        }
        if envelope.deadlineUnixMs != 0 && envelope.deadlineUnixMs <= now {
            return answer(client: client, key: key, id: id, service: envelope.service, receivedAt: now, now: now,
                          Reply(requestID: id, status: .deadlineExceeded, message: "deadline passed before the broker received the request"))
        }
        let known = services.index(forKey: envelope.service)
        let queued = known.map { services.values[$0].queued } ?? 0
        if queued >= configuration.maxQueuedPerService {
            return answer(client: client, key: key, id: id, service: envelope.service, receivedAt: now, now: now,
                          Reply(requestID: id, status: .resourceExhausted,
                                message: "service '\(envelope.service)' has \(queued) requests queued (limit \(configuration.maxQueuedPerService))"))
        }
        if known == nil, servicesWithoutWorkers >= configuration.maxServicesWithoutWorkers {
            return answer(client: client, key: key, id: id, service: envelope.service, receivedAt: now, now: now,
                          Reply(requestID: id, status: .unavailable,
                                message: "no worker for service '\(envelope.service)' (and \(configuration.maxServicesWithoutWorkers) other services without workers have requests waiting)"))
        }
        if let known {
            services.values[known].enqueue(id)
        } else {
            var service = ServiceState(emptySince: now)
            service.enqueue(id)
            services[envelope.service] = service
        }
        requests[id] = PendingRequest(envelope: envelope, client: client, key: key, phase: .queued, receivedAt: now, dispatches: 0)
        if envelope.deadlineUnixMs != 0 { deadlines.push(at: envelope.deadlineUnixMs, id: id) }
        return dispatch(service: envelope.service, now: now)
    }

    /// Why a client may not call `service` under the access policy, or nil (always nil without one).
    func authorization(key: String?, service: String) -> (code: StatusCode, message: String)? {
        guard let access = configuration.access else { return nil }
        guard let key else { return (.unauthenticated, "the broker requires CURVE authentication") }
        guard access.mayCall(key, service) else {
            return (.permissionDenied, "key \(key.prefix(8))… may not call service '\(service)'")
        }
        return nil
    }

    /// Why a request's metadata is over the configured bounds, or nil.
    func metadataProblem(_ metadata: [String: String]) -> String? {
        if metadata.count > configuration.maxMetadataEntries {
            return "\(metadata.count) metadata entries (limit \(configuration.maxMetadataEntries))"
        }
        let bytes = metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        if bytes > configuration.maxMetadataBytes { return "\(bytes) bytes of metadata (limit \(configuration.maxMetadataBytes))" }
        return nil
    }

    mutating func cancelRequest(_ id: String, client: PeerID, key: String? = nil, now: Int64) -> [BrokerAction] {
        guard let request = requests[id], request.client == client, request.key == key else { return [] }
        var actions: [BrokerAction] = []
        if case .running(let worker) = request.phase {
            actions.append(.cancel(worker: worker, requestID: id))
        }
        actions += finish(id, Reply(requestID: id, status: .cancelled, message: "cancelled by the client"), now: now)
        return actions
    }

    /// Every service's health (or the one asked for).
    func health(_ request: HealthRequest, now: Int64) -> HealthReply {
        var reply = HealthReply()
        reply.requestID = request.requestID
        reply.uptimeMs = max(0, now - startedAt)
        let names = request.service.isEmpty ? services.keys.sorted() : [request.service]
        for name in names {
            var entry = ServiceHealth()
            entry.service = name
            if let service = services[name] {
                entry.workers = UInt32(service.lru.count)
                entry.capacity = UInt32(service.lru.reduce(0) { $0 + (workers[$1]?.capacity ?? 0) })
                entry.queued = UInt32(service.queued)
                entry.inFlight = UInt32(service.inFlight)
            }
            reply.services.append(entry)
        }
        return reply
    }

    // MARK: Answering

    /// Answers a request the broker holds, exactly once, and forgets it.
    mutating func finish(_ id: String, _ reply: Reply, now: Int64) -> [BrokerAction] {
        guard let index = requests.index(forKey: id) else { return [] }
        return finish(at: index, reply, now: now)
    }

    /// `finish` for the request at `index` in `requests` (one lookup fewer on the reply path).
    mutating func finish(at index: Dictionary<String, PendingRequest>.Index, _ reply: Reply, encoded: [UInt8]? = nil,
                         now: Int64) -> [BrokerAction] {
        let (id, request) = requests.remove(at: index)
        if request.envelope.deadlineUnixMs != 0 { compactTimersIfStale() }
        let name = request.envelope.service
        if let service = services.index(forKey: name) {
            switch request.phase {
            case .queued: services.values[service].queued -= 1
            case .running: services.values[service].inFlight -= 1
                // The worker keeps the slot until it replies (or dies): its capacity is real.
            }
            if services.values[service].isIdle { services.remove(at: service) }
        }
        return answer(client: request.client, key: request.key, id: id, service: name, receivedAt: request.receivedAt, now: now,
                      reply, encoded: encoded)
    }

    /// - Parameter encoded: `reply` as the worker encoded it, when the broker forwards it unchanged
    ///   (the replay cache keeps those bytes); nil: the broker encodes it.
    mutating func answer(client: PeerID, key: String?, id: String, service: String, receivedAt: Int64, now: Int64,
                         _ reply: Reply, encoded: [UInt8]? = nil) -> [BrokerAction] {
        // A refusal the client may retry later (full queue, no workers) is not remembered:
        // the retry is a new attempt. Everything else is, so a retry gets the same answer.
        if reply.status.code != .resourceExhausted && reply.status.code != .unavailable && replay.capacity > 0 {
            let bytes = encoded ?? ((try? reply.serializedBytes()) ?? [])
            replay.insert(Answered(client: client, key: key, encoded: bytes), for: id)
        }
        return [.reply(to: client, reply, service: service, elapsedMs: max(0, now - receivedAt))]
    }

    /// Drops the timers of answered requests once they outnumber the live ones (plus a slack of 1,024),
    /// so timers are bounded by about twice the requests held, whatever deadlines clients send;
    /// each rebuild is paid for by the answers since the last one (amortised O(1) per request).
    mutating func compactTimersIfStale() {
        guard deadlines.count > 2 * requests.count + 1_024 else { return }
        deadlines.retain { at, id in requests[id]?.envelope.deadlineUnixMs == at }
    }

    /// Services that have no worker (requests wait for one, or the grace period).
    var servicesWithoutWorkers: Int { services.values.reduce(0) { $0 + ($1.lru.isEmpty ? 1 : 0) } }

    /// Drops a service's entry once it has no worker and nothing waiting or running, so names sent by
    /// clients leave no state behind.
    mutating func pruneIfIdle(_ name: String) {
        guard let index = services.index(forKey: name), services.values[index].isIdle else { return }
        services.remove(at: index)
    }

    // MARK: Dispatch

    /// Hands queued requests of `name` to its least-recently-used workers with free slots.
    mutating func dispatch(service name: String, now: Int64) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        dispatch(service: name, now: now, into: &actions)
        return actions
    }

    /// `dispatch`, appending to `actions`. The service, request and worker entries are changed in place
    /// through their dictionary indices: one hash per lookup and no copy of a request or a queue.
    mutating func dispatch(service name: String, now: Int64, into actions: inout [BrokerAction]) {
        guard let index = services.index(forKey: name) else { return }
        while services.values[index].queued > 0 {
            guard let slot = services.values[index].lru.firstIndex(where: { (workers[$0]?.free ?? 0) > 0 }) else { break }
            guard let id = services.values[index].queue.popFront() else { break }
            guard let request = requests.index(forKey: id), requests.values[request].phase == .queued else { continue }  // stale entry
            let worker = services.values[index].lru.remove(at: slot)
            services.values[index].lru.append(worker)
            requests.values[request].phase = .running(worker: worker)
            requests.values[request].dispatches += 1
            workers[worker]?.holding.insert(id)
            services.values[index].queued -= 1
            services.values[index].inFlight += 1
            var envelope = requests.values[request].envelope
            envelope.attempt = UInt32(requests.values[request].dispatches)
            actions.append(.dispatch(to: worker, envelope))
        }
    }
}
