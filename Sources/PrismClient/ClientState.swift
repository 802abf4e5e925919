import PrismWire
import ZeroMQ

/// The client's decisions as a plain value: no sockets, no clocks, no continuations. Each input
/// returns the actions to carry out; `now` is milliseconds since the Unix epoch.
///
/// - Every call ends exactly once: with the first reply for its id (from any broker), a local
///   DEADLINE_EXCEEDED at its deadline, UNAUTHENTICATED while the broker refuses our handshake, or
///   CANCELLED on close. Later replies for the id are counted as duplicates and dropped.
/// - Unanswered requests are re-sent with the same id every `resendIntervalMs` (the broker absorbs
///   copies of a request it holds and replays answered ones).
/// - Failover: requests go to one broker, the active one. With several brokers, while calls wait,
///   the client pings the active broker (HEALTH) when it has heard nothing for `pingIntervalMs`; after
///   `failoverAfterMs` of silence, or when the broker says it is shutting down, the next broker
///   becomes active and every waiting request is re-sent to it at once. A request may then run on
///   both brokers' workers, but its caller gets one answer.
struct ClientState {
    struct Options: Equatable {
        var brokers = 1
        var resendIntervalMs: Int64 = 1_000
        var pingIntervalMs: Int64 = 500
        var failoverAfterMs: Int64 = 2_000
        /// Whether this client uses CURVE (only changes the wording of handshake failures).
        var curve = false
        /// Larger bodies end their call at once with RESOURCE_EXHAUSTED: the broker would refuse them,
        /// and past libzmq's own frame limit the broker drops the connection without an answer.
        var maxBodyBytes = defaultMaxBodyBytes
    }

    enum Action: Equatable {
        case send(ClientMessage, broker: Int)
        /// End a call with this reply after `attempts` sends.
        case complete(Reply, attempts: Int)
        /// End a health call (nil: no answer before its deadline).
        case health(requestID: String, HealthReply?)
        case failedOver(from: Int, to: Int, reason: String)
    }

    struct Pending: Equatable {
        var envelope: Envelope
        var nextResend: Int64
        var attempts: Int
    }

    let options: Options
    private(set) var pending: [String: Pending] = [:]
    private(set) var healthDeadlines: [String: Int64] = [:]
    private(set) var active = 0
    /// When the active broker last sent anything (or when waiting began, if later).
    private(set) var lastHeard: Int64
    private var lastPing: Int64 = 0
    private var pings = 0
    /// Why the last security handshake with each broker failed (nil once one succeeds).
    private(set) var handshakeFailure: [String?]
    /// Ids answered recently (bounded), to count a second reply.
    private var answered = Set<String>()
    private var answeredOrder: [String] = []
    private(set) var duplicates = 0

    static let pingPrefix = "prism-client-ping-"
    static let answeredMemory = 100_000

    init(options: Options, now: Int64) {
        self.options = options
        lastHeard = now
        handshakeFailure = Array(repeating: nil, count: max(1, options.brokers))
    }

    var isWaiting: Bool { !pending.isEmpty || !healthDeadlines.isEmpty }

    // MARK: Inputs from the caller

    mutating func call(_ envelope: Envelope, now: Int64) -> [Action] {
        let id = envelope.requestID
        if let reason = handshakeFailure[active] {
            return [.complete(Reply(requestID: id, status: .unauthenticated, message: reason), attempts: 0)]
        }
        if pending[id] != nil {
            return [.complete(Reply(requestID: id, status: .alreadyExists, message: "a call with this request id is already running"), attempts: 0)]
        }
        if envelope.body.count > options.maxBodyBytes {
            return [.complete(Reply(requestID: id, status: .resourceExhausted,
                                    message: "the body (\(envelope.body.count) bytes) exceeds the \(options.maxBodyBytes)-byte limit; "
                                        + "the broker refuses larger bodies (prism broker --max-body-bytes)"), attempts: 0)]
        }
        startWaiting(now: now)
        pending[id] = Pending(envelope: envelope, nextResend: now + options.resendIntervalMs, attempts: 1)
        return [.send(.request(envelope), broker: active)]
    }

    mutating func cancel(_ id: String) -> [Action] {
        guard pending[id] != nil else { return [] }
        var cancel = Cancel()
        cancel.requestID = id
        return [.send(.cancel(cancel), broker: active)]
    }

    mutating func health(_ request: HealthRequest, deadline: Int64, now: Int64) -> [Action] {
        startWaiting(now: now)
        healthDeadlines[request.requestID] = deadline
        return [.send(.health(request), broker: active)]
    }

    /// Ends everything still waiting.
    mutating func close() -> [Action] {
        var actions: [Action] = pending.keys.sorted().compactMap { id in
            finish(id, Reply(requestID: id, status: .cancelled, message: "the client was closed"))
        }
        actions += healthDeadlines.keys.sorted().map { .health(requestID: $0, nil) }
        healthDeadlines.removeAll()
        return actions
    }

    // MARK: Inputs from the brokers

    mutating func received(_ response: ClientResponse, from broker: Int, now: Int64) -> [Action] {
        if broker == active { lastHeard = now }
        switch response {
        case .reply(let reply):
            let id = reply.requestID
            if id.isEmpty { return [] }  // a rejected malformed message of ours: nothing to end
            if reply.metadata["prism-retry"] == "true", let entry = pending[id] {
                // That broker is shutting down: another one takes over, or this one again soon.
                if options.brokers > 1, broker == active { return failOver(now: now, reason: "the broker is shutting down") }
                pending[id]?.nextResend = min(entry.nextResend, now + 100)
                return []
            }
            return finish(id, reply).map { [$0] } ?? []
        case .health(let health):
            if health.requestID.hasPrefix(Self.pingPrefix) { return [] }
            guard healthDeadlines.removeValue(forKey: health.requestID) != nil else { return [] }
            return [.health(requestID: health.requestID, health)]
        }
    }

    /// How a security handshake with `broker` ended (libzmq retries failed ones on its own).
    mutating func handshake(_ outcome: HandshakeMonitor.Outcome, broker: Int) -> [Action] {
        if case .failed = outcome { return [] }  // libzmq retries on its own (e.g. a broker restart mid-handshake)
        handshakeFailure[broker] = HandshakeMonitor.problem(outcome, allowList: "--client-keys", curve: options.curve)
        guard broker == active, let reason = handshakeFailure[broker] else { return [] }
        return pending.keys.sorted().compactMap { finish($0, Reply(requestID: $0, status: .unauthenticated, message: reason)) }
    }

    // MARK: Time

    /// Deadlines, re-sends, pings and failover.
    mutating func tick(now: Int64) -> [Action] {
        var actions: [Action] = []
        if options.brokers > 1, isWaiting {
            if now - lastHeard >= options.failoverAfterMs {
                actions += failOver(now: now, reason: "no answer for \(now - lastHeard) ms")
            } else if now - lastHeard >= options.pingIntervalMs, now - lastPing >= options.pingIntervalMs {
                lastPing = now
                pings += 1
                var ping = HealthRequest()
                ping.requestID = Self.pingPrefix + "\(pings)"
                ping.service = Self.pingPrefix  // names no service: a small answer
                actions.append(.send(.health(ping), broker: active))
            }
        }
        for (id, entry) in pending {
            if entry.envelope.deadlineUnixMs != 0 && now >= entry.envelope.deadlineUnixMs {
                if let done = finish(id, Reply(requestID: id, status: .deadlineExceeded,
                                               message: "no reply within the deadline (\(entry.attempts) attempts)")) {
                    actions.append(done)
                }
            } else if now >= entry.nextResend {
                actions.append(resend(id, entry, now: now))
            }
        }
        for (id, deadline) in healthDeadlines where now >= deadline {
            healthDeadlines.removeValue(forKey: id)
            actions.append(.health(requestID: id, nil))
        }
        return actions
    }

    // MARK: Helpers

    private mutating func startWaiting(now: Int64) {
        // The active broker's silence is counted from when the client starts waiting on it.
        if !isWaiting { lastHeard = max(lastHeard, now) }
    }

    private mutating func failOver(now: Int64, reason: String) -> [Action] {
        let from = active
        active = (active + 1) % options.brokers
        lastHeard = now
        lastPing = now
        var actions: [Action] = [.failedOver(from: from, to: active, reason: reason)]
        for (id, entry) in pending.sorted(by: { $0.key < $1.key }) { actions.append(resend(id, entry, now: now)) }
        return actions
    }

    private mutating func resend(_ id: String, _ waiting: Pending, now: Int64) -> Action {
        var entry = waiting
        entry.attempts += 1
        entry.envelope.attempt = UInt32(entry.attempts)
        entry.nextResend = now + options.resendIntervalMs
        pending[id] = entry
        return .send(.request(entry.envelope), broker: active)
    }

    private mutating func finish(_ id: String, _ reply: Reply) -> Action? {
        guard let entry = pending.removeValue(forKey: id) else {
            if answered.contains(id) { duplicates += 1 }
            return nil
        }
        answered.insert(id)
        answeredOrder.append(id)
        if answeredOrder.count > Self.answeredMemory {
            for old in answeredOrder.prefix(Self.answeredMemory / 2) { answered.remove(old) }
            answeredOrder.removeFirst(Self.answeredMemory / 2)
        }
        return .complete(reply, attempts: entry.attempts)
    }
}
