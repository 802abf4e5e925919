import Logging
import PrismWire
import ZeroMQ

/// The worker's I/O loop. Made before the thread starts and used only on it afterwards
/// (it holds the socket, so it is deliberately not `Sendable`; the unchecked box only carries it
/// across the one hand-over to the thread).
final class WorkerLoop: @unchecked Sendable {
    let runtime: WorkerRuntime
    var config: WorkerConfiguration { runtime.configuration }
    var logger: Logger { runtime.logger }
    var socket: Socket?
    /// Watches the socket's security handshakes, to say why the broker does not answer.
    var monitor: HandshakeMonitor?
    var lastHandshakeProblem: String?
    /// The broker refused this worker for good: the loop ends.
    var refused = false
    /// Built once per socket, not per loop iteration.
    var poller = Poller()
    var pollerSocket: Socket?

    /// What waits and what runs: every scheduling decision is the queue's.
    var queue: WorkerQueue
    /// Tasks running a single request, so a cancel can interrupt them (Task.sleep, awaits).
    var singleTasks: [String: Task<Void, Never>] = [:]
    var lastHeard: Int64 = 0
    var lastSent: Int64 = 0
    var reconnects = 0
    /// Doubles with each reconnect that hears nothing back (up to 16x), so a worker whose broker
    /// is down does not churn sockets; any message from the broker resets it.
    var backoff: Int64 = 1
    var drainUntil: Int64?

    let metrics: WorkerMetrics
    /// When each running request was handed to the handler (monotonic ns).
    var startedAt: [String: UInt64] = [:]
    /// Set when the handler answers on this thread (`InlineRequestHandler`).
    let inline: (any InlineRequestHandler)?

    init(runtime: WorkerRuntime) throws {
        self.runtime = runtime
        metrics = WorkerMetrics(service: runtime.configuration.service)
        inline = runtime.handler as? any InlineRequestHandler
        queue = WorkerQueue(limits: .init(capacity: runtime.configuration.capacity, maxBatchSize: runtime.handler.maxBatchSize,
                                          maxBatchWaitMs: runtime.configuration.maxBatchWaitMs))
    }

    func run() {
        connect(now: unixTimeMs())
        while true {
            let now = unixTimeMs()
            if let until = drainUntil, queue.isEmpty || now >= until {
                leave(now: now)
                return
            }
            if pollerSocket !== socket {  // (re)connected: watch the new socket
                poller = Poller()
                poller.add(fileDescriptor: runtime.mailbox.wakeup.readDescriptor)
                if let socket { poller.add(socket) }
                if socket != nil, let monitor { poller.add(monitor.socket) }
                pollerSocket = socket
            }
            let mailboxIndex = 0, socketIndex: Int? = socket == nil ? nil : 1
            let monitorIndex: Int? = socket == nil || monitor == nil ? nil : 2
            let wait = max(0, min(nextTimer(now: now) - now, 100))
            do { try poller.poll(timeoutMs: Int(wait)) } catch {
                logger.error("poll failed: \(error)")
                return
            }
            if poller.isReadable(mailboxIndex) {
                for command in runtime.mailbox.take() { handle(command) }
            }
            if let monitorIndex, poller.isReadable(monitorIndex) { handshakes() }
            if let socketIndex, poller.isReadable(socketIndex) { drainSocket() }
            if refused {
                socket?.close()
                socket = nil
                return
            }
            timers(now: unixTimeMs())
            schedule(now: unixTimeMs())
        }
    }

    // MARK: Connection

    func connect(now: Int64) {
        runtime.heard.store(false, ordering: .relaxed)
        monitor = nil
        socket?.close()
        socket = nil
        do {
            let fresh = try runtime.context.socket(.dealer)
            try fresh.setReconnectInterval(milliseconds: 100, max: 2_000)
            try fresh.setHighWaterMarks(send: 100_000, receive: 100_000)
            if let curve = config.curve { try fresh.makeCurveClient(curve) }
            monitor = try HandshakeMonitor(watching: fresh, context: runtime.context)
            try fresh.connect(config.broker)
            socket = fresh
            var ready = Ready()
            ready.service = config.service
            ready.capacity = UInt32(config.capacity)
            ready.workerID = config.workerID
            ready.labels = config.labels
            send(.ready(ready), now: now)
            if drainUntil != nil { sendHeartbeat(now: now) }
        } catch {
            logger.error("cannot connect to the broker", metadata: ["broker": "\(config.broker)", "error": "\(error)"])
        }
        lastHeard = now
        if reconnects > 0 {
            logger.info("reconnected to the broker", metadata: ["attempt": "\(reconnects)"])
            metrics.reconnected()
        }
        reconnects += 1
    }

    /// Logs (once per change) why the broker's security handshake fails; libzmq keeps retrying.
    func handshakes() {
        guard let monitor else { return }
        for outcome in monitor.take() {
            if case .failed = outcome { continue }
            let problem = HandshakeMonitor.problem(outcome, allowList: "--worker-keys", curve: config.curve != nil)
            if let problem, problem != lastHandshakeProblem {
                logger.error("broker handshake failed", metadata: ["broker": "\(config.broker)", "reason": "\(problem)"])
            }
            lastHandshakeProblem = problem
        }
    }

    func send(_ message: WorkerMessage, now: Int64) {
        guard let socket else { return }
        do {
            try socket.send(message.frames, dontWait: true)
            lastSent = now
        } catch {
            logger.debug("send to the broker failed: \(error)")
        }
    }

    func sendHeartbeat(now: Int64) {
        var heartbeat = Heartbeat()
        heartbeat.inFlight = UInt32(queue.held)
        heartbeat.draining = drainUntil != nil
        send(.heartbeat(heartbeat), now: now)
    }

    func leave(now: Int64) {
        var disconnect = Disconnect()
        disconnect.reason = queue.running.isEmpty ? "shutting down" : "drain timeout with \(queue.running.count) requests unfinished"
        send(.disconnect(disconnect), now: now)
        socket?.close()  // LINGER lets the DISCONNECT leave
        socket = nil
        logger.info("worker stopped", metadata: ["unfinished": "\(queue.running.count)"])
    }

    // MARK: Input

    func drainSocket() {
        for _ in 0..<512 {
            guard let socket else { return }
            let frames: [[UInt8]]
            do { frames = try socket.receive(dontWait: true) } catch { return }
            let now = unixTimeMs()
            lastHeard = now
            backoff = 1
            runtime.heard.store(true, ordering: .relaxed)
            let message: BrokerMessage
            do { message = try BrokerMessage.decode(frames[...]) } catch {
                logger.warning("malformed message from the broker: \(error)")
                continue
            }
            switch message {
            case .request(let envelope):
                accept(envelope, now: now)
            case .cancel(let cancel):
                cancelRequest(cancel.requestID, now: now)
            case .heartbeat:
                break
            case .disconnect(let disconnect) where disconnect.code == .permissionDenied:
                logger.error("the broker refused this worker", metadata: ["reason": "\(disconnect.reason)"])
                runtime.refusal.withLock { $0 = disconnect.reason }
                refused = true
                return
            case .disconnect(let disconnect):
                logger.info("broker asked to reconnect", metadata: ["reason": "\(disconnect.reason)"])
                connect(now: now)
                return
            }
        }
    }

    func accept(_ envelope: Envelope, now: Int64) {
        if let (id, result) = queue.accept(envelope, now: now) { reply(id, result, now: now) }
    }

    func cancelRequest(_ id: String, now: Int64) {
        if let (id, result) = queue.cancel(id) {
            reply(id, result, now: now)
        } else {
            singleTasks[id]?.cancel()
        }
    }

    func handle(_ command: WorkerRuntime.Command) {
        let now = unixTimeMs()
        switch command {
        case .completed(let ids, let results):
            if let first = ids.first, let started = startedAt[first] { metrics.handled(batch: ids.count, nanoseconds: monotonicNs() - started) }
            for id in ids {
                startedAt[id] = nil
                singleTasks[id] = nil
            }
            for (id, result) in queue.completed(ids, results) { reply(id, result, now: now) }
        case .shutdown:
            guard drainUntil == nil else { return }
            drainUntil = now + config.drainTimeoutMs
            logger.info("worker draining", metadata: ["held": "\(queue.held)"])
            sendHeartbeat(now: now)
        }
    }

    func reply(_ id: String, _ result: WorkResult, now: Int64) {
        metrics.replied(result.status.code)
        var reply = Reply()
        reply.requestID = id
        reply.status = result.status
        reply.body = result.body
        reply.metadata = result.metadata
        reply.workerID = config.workerID
        send(.reply(reply), now: now)
    }

    // MARK: Work

    /// Hands waiting requests to the handler: never more than `capacity` at once, in batches of
    /// up to `maxBatchSize`; a partial batch waits up to `maxBatchWaitMs` for company.
    /// An inline handler answers every waiting request here and now (capacity does not apply:
    /// nothing is left running).
    func schedule(now: Int64) {
        if let inline {
            for envelope in queue.takeAllWaiting() {
                let started = monotonicNs()
                let result = inline.handleInline(WorkRequest(envelope: envelope))
                metrics.handled(batch: 1, nanoseconds: monotonicNs() - started)
                reply(envelope.requestID, result, now: now)
            }
            return
        }
        for batch in queue.startBatches(now: now) {
            let started = monotonicNs()
            for request in batch { startedAt[request.requestID] = started }
            let handler = runtime.handler
            let mailbox = runtime.mailbox
            let task = Task.detached {
                let results = await handler.handle(batch: batch)
                mailbox.post(.completed(batch.map(\.requestID), results))
            }
            if batch.count == 1 { singleTasks[batch[0].requestID] = task }
        }
    }

    func nextTimer(now: Int64) -> Int64 {
        var next = lastSent + config.heartbeatIntervalMs
        next = min(next, lastHeard + brokerSilenceLimit)
        if let batchDeadline = queue.batchDeadline() { next = min(next, batchDeadline) }
        return next
    }

    /// How long the broker may stay silent before the worker reconnects.
    var brokerSilenceLimit: Int64 { config.heartbeatIntervalMs * config.heartbeatLiveness * backoff }

    func timers(now: Int64) {
        if now - lastHeard > brokerSilenceLimit {
            logger.warning("broker silent; reconnecting", metadata: ["broker": "\(config.broker)", "backoff": "\(backoff)"])
            connect(now: now)
            backoff = min(backoff * 2, 16)
        }
        if now - lastSent >= config.heartbeatIntervalMs { sendHeartbeat(now: now) }
        // Requests whose deadline passed while waiting are answered without running them.
        for (id, result) in queue.expire(now: now) { reply(id, result, now: now) }
    }
}
