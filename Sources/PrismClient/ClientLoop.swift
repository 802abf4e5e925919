import Logging
import PrismWire
import ZeroMQ

/// The client's I/O loop: owns the DEALER socket and every pending call. Made before the
/// thread starts and used only on it (hence the unchecked hand-over).
final class ClientLoop: @unchecked Sendable {
    struct Pending {
        var envelope: Envelope
        let continuation: CheckedContinuation<(Reply, Int), Never>
        var nextResend: Int64
        var attempts: Int
    }

    let configuration: ClientConfiguration
    let context: Context
    let counters: ClientCounters
    let logger: Logger
    var socket: Socket?
    var pending: [String: Pending] = [:]
    var healthWaiters: [String: (deadline: Int64, continuation: CheckedContinuation<HealthReply?, Never>)] = [:]
    /// Ids answered recently, to count (and drop) a second reply.
    var answered = Set<String>()
    var answeredOrder: [String] = []
    var lastSweep: Int64 = 0

    init(configuration: ClientConfiguration, context: Context, counters: ClientCounters, logger: Logger) throws {
        self.configuration = configuration
        self.context = context
        self.counters = counters
        self.logger = logger
    }

    /// 16 random bytes, the first never zero (libzmq reserves ids starting with a zero byte).
    static func randomRoutingID() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var id = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        id[0] = UInt8.random(in: 1...255, using: &generator)
        return id
    }

    func run(mailbox: Mailbox<PrismClient.Command>) {
        let socket: Socket
        do {
            socket = try context.socket(.dealer)
            // The broker scopes requests, replays and cancels to this routing id: random (not
            // guessable by other clients) and kept across reconnects, so re-sends stay ours.
            try socket.setRoutingID(Self.randomRoutingID())
            try socket.setReconnectInterval(milliseconds: 100, max: 1_000)
            try socket.setHighWaterMarks(send: 100_000, receive: 100_000)
            try socket.connect(configuration.broker)
        } catch {
            logger.error("client cannot connect", metadata: ["broker": "\(configuration.broker)", "error": "\(error)"])
            // Answer everything that comes in with UNAVAILABLE until closed.
            failForever(mailbox: mailbox, reason: "cannot connect to \(configuration.broker): \(error)")
            return
        }
        self.socket = socket
        var poller = Poller()
        let socketIndex = poller.add(socket)
        let mailboxIndex = poller.add(fileDescriptor: mailbox.wakeup.readDescriptor)
        while true {
            let now = unixTimeMs()
            let wait = pending.isEmpty && healthWaiters.isEmpty ? 1_000 : max(0, min(lastSweep + 20 - now, 20))
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
            if poller.isReadable(socketIndex) { drainSocket() }
            let later = unixTimeMs()
            if later - lastSweep >= 20 {
                lastSweep = later
                sweep(now: later)
            }
        }
        shutdown()
    }

    func handle(_ command: PrismClient.Command) {
        let now = unixTimeMs()
        switch command {
        case .call(let envelope, let continuation):
            if pending[envelope.requestID] != nil {
                continuation.resume(returning: (Reply(requestID: envelope.requestID, status: .alreadyExists,
                    message: "a call with this request id is already running"), 0))
                return
            }
            pending[envelope.requestID] = Pending(envelope: envelope, continuation: continuation,
                                                   nextResend: now + configuration.resendIntervalMs, attempts: 1)
            transmit(.request(envelope))
        case .cancel(let id):
            if pending[id] != nil {
                var cancel = Cancel()
                cancel.requestID = id
                transmit(.cancel(cancel))
            }
        case .health(let request, let deadline, let continuation):
            healthWaiters[request.requestID] = (deadline, continuation)
            transmit(.health(request))
        case .close:
            break
        }
    }

    func transmit(_ message: ClientMessage) {
        do { try socket?.send(message.frames, dontWait: true) } catch {
            logger.debug("client send failed: \(error)")  // re-sent at the next interval
        }
    }

    func drainSocket() {
        for _ in 0..<1_024 {
            guard let socket else { return }
            let frames: [[UInt8]]
            do { frames = try socket.receive(dontWait: true) } catch { return }
            guard let response = try? ClientResponse.decode(frames[...]) else {
                logger.warning("malformed message from the broker")
                continue
            }
            switch response {
            case .reply(let reply):
                if reply.requestID.isEmpty {
                    logger.warning("broker rejected a message: \(reply.status.code.name): \(reply.status.message)")
                    continue
                }
                if reply.metadata["prism-retry"] == "true", var entry = pending[reply.requestID] {
                    entry.nextResend = min(entry.nextResend, unixTimeMs() + 100)  // the broker is leaving: try again soon
                    pending[reply.requestID] = entry
                    continue
                }
                complete(reply.requestID, reply)
            case .health(let health):
                healthWaiters.removeValue(forKey: health.requestID)?.continuation.resume(returning: health)
            }
        }
    }

    func complete(_ id: String, _ reply: Reply) {
        guard let entry = pending.removeValue(forKey: id) else {
            if answered.contains(id) { counters.duplicates.add(1, ordering: .relaxed) }
            return
        }
        answered.insert(id)
        answeredOrder.append(id)
        if answeredOrder.count > 100_000 {
            for old in answeredOrder.prefix(50_000) { answered.remove(old) }
            answeredOrder.removeFirst(50_000)
        }
        entry.continuation.resume(returning: (reply, entry.attempts))
    }

    /// Deadlines and re-sends.
    func sweep(now: Int64) {
        for (id, entry) in pending {
            if entry.envelope.deadlineUnixMs != 0 && now >= entry.envelope.deadlineUnixMs {
                complete(id, Reply(requestID: id, status: .deadlineExceeded,
                                   message: "no reply within the deadline (\(entry.attempts) attempts)"))
            } else if now >= entry.nextResend {
                var next = entry
                next.attempts += 1
                next.envelope.attempt = UInt32(next.attempts)
                next.nextResend = now + configuration.resendIntervalMs
                pending[id] = next
                transmit(.request(next.envelope))
            }
        }
        for (id, waiter) in healthWaiters where now >= waiter.deadline {
            healthWaiters.removeValue(forKey: id)?.continuation.resume(returning: nil)
        }
    }

    func shutdown() {
        for (id, _) in pending { complete(id, Reply(requestID: id, status: .cancelled, message: "the client was closed")) }
        for (_, waiter) in healthWaiters { waiter.continuation.resume(returning: nil) }
        healthWaiters.removeAll()
        socket?.close()
        socket = nil
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
