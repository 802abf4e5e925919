import Logging
import PrismWire
import ZeroMQ

/// The client's I/O loop: one DEALER socket per broker endpoint (all connected, so a failover finds a
/// warm connection), their handshake monitors, and the continuations of the calls. Every decision
/// is `ClientState`'s; this loop only moves bytes and resumes callers. Made before the thread
/// starts and used only on it (hence the unchecked hand-over).
final class ClientLoop: @unchecked Sendable {
    struct Link {
        let endpoint: String
        let socket: Socket
        let monitor: HandshakeMonitor
    }

    let configuration: ClientConfiguration
    let context: Context
    let counters: ClientCounters
    let logger: Logger
    var links: [Link] = []
    var state: ClientState
    var calls: [String: CheckedContinuation<(Reply, Int), Never>] = [:]
    var healthCalls: [String: CheckedContinuation<HealthReply?, Never>] = [:]
    var lastTick: Int64 = 0

    init(configuration: ClientConfiguration, context: Context, counters: ClientCounters, logger: Logger) throws {
        self.configuration = configuration
        self.context = context
        self.counters = counters
        self.logger = logger
        var options = ClientState.Options()
        options.brokers = configuration.brokers.count
        options.resendIntervalMs = configuration.resendIntervalMs
        options.failoverAfterMs = configuration.failoverAfterMs
        options.pingIntervalMs = max(1, configuration.failoverAfterMs / 4)
        options.curve = configuration.curve != nil
        options.maxBodyBytes = configuration.maxBodyBytes
        state = ClientState(options: options, now: unixTimeMs())
    }

    /// 16 random bytes, the first never zero (libzmq reserves ids starting with a zero byte).
    static func randomRoutingID() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var id = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        id[0] = UInt8.random(in: 1...255, using: &generator)
        return id
    }

    func run(mailbox: Mailbox<PrismClient.Command>) {
        do {
            // The broker scopes requests, replays and cancels to this routing id: random (not
            // guessable by other clients) and kept across reconnects, so re-sends stay ours. The
            // same id on every broker: a failed-over request is still this client's.
            let routingID = Self.randomRoutingID()
            for endpoint in configuration.brokers {
                let socket = try context.socket(.dealer)
                try socket.setRoutingID(routingID)
                try socket.setReconnectInterval(milliseconds: 100, max: 1_000)
                try socket.setHighWaterMarks(send: 100_000, receive: 100_000)
                if let curve = configuration.curve { try socket.makeCurveClient(curve) }
                let monitor = try HandshakeMonitor(watching: socket, context: context)
                try socket.connect(endpoint)
                links.append(Link(endpoint: endpoint, socket: socket, monitor: monitor))
            }
        } catch {
            logger.error("client cannot connect", metadata: ["broker": "\(configuration.broker)", "error": "\(error)"])
            // Answer everything that comes in with UNAVAILABLE until closed.
            failForever(mailbox: mailbox, reason: "cannot connect to \(configuration.broker): \(error)")
            return
        }
        var poller = Poller()
        let mailboxIndex = poller.add(fileDescriptor: mailbox.wakeup.readDescriptor)
        for link in links {
            poller.add(link.socket)
            poller.add(link.monitor.socket)
        }
        while true {
            let now = unixTimeMs()
            let wait = state.isWaiting ? max(0, min(lastTick + 20 - now, 20)) : 1_000
            do { try poller.poll(timeoutMs: Int(wait)) } catch { break }
            if poller.isReadable(mailboxIndex) {
                for command in mailbox.take() {
                    if case .close = command {
                        shutdown()
                        return
                    }
                    handle(command)
                }
            }
            for (index, link) in links.enumerated() {
                if poller.isReadable(2 + 2 * index) {
                    for outcome in link.monitor.take() { carry(state.handshake(outcome, broker: index)) }
                }
                if poller.isReadable(1 + 2 * index) { drain(link.socket, broker: index) }
            }
            let later = unixTimeMs()
            if later - lastTick >= 20 {
                lastTick = later
                carry(state.tick(now: later))
            }
        }
        shutdown()
    }

    func handle(_ command: PrismClient.Command) {
        let now = unixTimeMs()
        switch command {
        case .call(let envelope, let continuation):
            let actions = state.call(envelope, now: now)
            guard calls[envelope.requestID] == nil else {
                // A second call with a running call's id: the state refused it (ALREADY_EXISTS)
                // without touching the running one, whose continuation stays.
                for case .complete(let reply, let attempts) in actions { continuation.resume(returning: (reply, attempts)) }
                return
            }
            calls[envelope.requestID] = continuation
            carry(actions)
        case .cancel(let id):
            carry(state.cancel(id))
        case .health(let request, let deadline, let continuation):
            healthCalls[request.requestID] = continuation
            carry(state.health(request, deadline: deadline, now: now))
        case .close:
            break
        }
    }

    func carry(_ actions: [ClientState.Action]) {
        for action in actions {
            switch action {
            case .send(let message, let broker):
                do { try links[broker].socket.send(message.frames, dontWait: true) } catch {
                    logger.debug("client send failed: \(error)")  // re-sent at the next interval
                }
            case .complete(let reply, let attempts):
                calls.removeValue(forKey: reply.requestID)?.resume(returning: (reply, attempts))
            case .health(let id, let reply):
                healthCalls.removeValue(forKey: id)?.resume(returning: reply)
            case .failedOver(let from, let to, let reason):
                logger.warning("failing over to another broker", metadata: [
                    "from": "\(links[from].endpoint)", "to": "\(links[to].endpoint)", "reason": "\(reason)"])
            }
        }
        counters.duplicates.store(state.duplicates, ordering: .relaxed)
    }

    func drain(_ socket: Socket, broker: Int) {
        for _ in 0..<1_024 {
            let frames: [[UInt8]]
            do { frames = try socket.receive(dontWait: true) } catch { return }
            guard let response = try? ClientResponse.decode(frames[...]) else {
                logger.warning("malformed message from the broker")
                continue
            }
            if case .reply(let reply) = response, reply.requestID.isEmpty {
                logger.warning("broker rejected a message: \(reply.status.code.name): \(reply.status.message)")
            }
            carry(state.received(response, from: broker, now: unixTimeMs()))
        }
    }

    func shutdown() {
        carry(state.close())
        for link in links { link.socket.close() }
        links.removeAll()
    }

    func failForever(mailbox: Mailbox<PrismClient.Command>, reason: String) {
        var poller = Poller()
        poller.add(fileDescriptor: mailbox.wakeup.readDescriptor)
        while true {
            _ = try? poller.poll(timeoutMs: -1)
            for command in mailbox.take() {
                switch command {
                case .call(let envelope, let continuation):
                    continuation.resume(returning: (Reply(requestID: envelope.requestID, status: .unavailable, message: reason), 0))
                case .health(_, _, let continuation):
                    continuation.resume(returning: nil)
                case .cancel:
                    break
                case .close:
                    return
                }
            }
        }
    }
}
