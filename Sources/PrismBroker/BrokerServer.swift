import Foundation
import Logging
import PrismSecurity
import PrismWire
import Synchronization
import ZeroMQ

/// Every failure of the broker module.
public enum BrokerError: Error, CustomStringConvertible {
    case bindFailed(endpoint: String, ZeroMQError)
    case alreadyStarted
    case socket(ZeroMQError)
    /// CURVE needs both the broker's key pair and an access policy, or neither.
    case incompleteSecurity(String)

    public var description: String {
        switch self {
        case .bindFailed(let endpoint, let error): return "cannot bind \(endpoint): \(error)"
        case .alreadyStarted: return "the broker was already started"
        case .socket(let error): return "socket error: \(error)"
        case .incompleteSecurity(let text): return "incomplete CURVE set-up: \(text)"
        }
    }
}

/// The broker process's engine: a frontend ROUTER for clients and a backend ROUTER for workers,
/// both owned by one dedicated I/O thread that feeds `BrokerState` and carries out its actions.
public final class BrokerServer: Sendable {
    /// The endpoints actually bound (wildcard ports resolved).
    public struct Endpoints: Sendable, Equatable {
        public var frontend: String
        public var backend: String
    }

    enum Command: Sendable {
        case stop(drainMs: Int64)
    }

    public let configuration: BrokerConfiguration
    public let frontend: String
    public let backend: String
    /// The broker's CURVE key pair: both sockets are CURVE servers and `configuration.access` decides
    /// who gets in (nil: plain sockets, no authentication).
    public let curve: CurveKeyPair?
    let context: Context
    let logger: Logger
    let mailbox: Mailbox<Command>
    private let thread = Mutex<IOThread?>(nil)

    /// - Parameters:
    ///   - frontend: where clients connect, e.g. `tcp://*:5555`, `ipc:///tmp/prism-fe`, `inproc://fe`.
    ///   - backend: where workers connect.
    ///   - curve: the broker's key pair; then `configuration.access` must be set too.
    ///   - context: share one with in-process peers to use `inproc://` endpoints (one CURVE broker per
    ///     context: its ZAP handler owns the context's ZAP endpoint).
    public init(configuration: BrokerConfiguration = BrokerConfiguration(), frontend: String, backend: String,
                curve: CurveKeyPair? = nil, context: Context? = nil, logger: Logger = Logger(label: "prism.broker")) throws {
        if (curve == nil) != (configuration.access == nil) {
            throw BrokerError.incompleteSecurity(curve == nil ? "an access policy without the broker's key pair" : "the broker's key pair without an access policy")
        }
        self.curve = curve
        self.configuration = configuration
        self.frontend = frontend
        self.backend = backend
        self.context = try context ?? Context()
        self.logger = logger
        self.mailbox = try Mailbox()
    }

    /// Binds both sockets on the broker's own thread and starts routing; returns the bound endpoints.
    public func start() async throws -> Endpoints {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Endpoints, Error>) in
            let alreadyRunning = thread.withLock { current -> Bool in
                if current != nil { return true }
                current = IOThread(name: "prism-broker") { [self] in
                    let loop: BrokerLoop
                    do {
                        loop = try BrokerLoop(server: self)
                    } catch {
                        continuation.resume(throwing: error)
                        return
                    }
                    continuation.resume(returning: loop.endpoints)
                    loop.run()
                }
                return false
            }
            if alreadyRunning { continuation.resume(throwing: BrokerError.alreadyStarted) }
        }
    }

    /// Stops taking new requests, waits up to `drainMs` for running ones, then closes.
    public func shutdown(drainMs: Int64 = 5_000) {
        mailbox.post(.stop(drainMs: drainMs))
    }

    /// Returns when the broker's thread has ended.
    public func join() async {
        guard let thread = thread.withLock({ $0 }) else { return }
        await thread.join()
    }
}

/// The broker's I/O loop; made on, and never leaves, the broker thread.
final class BrokerLoop {
    let frontend: Socket
    let backend: Socket
    /// The ZAP handler's socket when CURVE is on: libzmq asks it about every handshake.
    let zap: Socket?
    let endpoints: BrokerServer.Endpoints
    let mailbox: Mailbox<BrokerServer.Command>
    let logger: Logger
    let metrics = BrokerMetrics()
    var state: BrokerState
    var drainUntil: Int64?
    var lastPublished: Int64 = 0
    /// While a worker's reply is being handled: its request id and body frame as received. When the state
    /// machine answers that request with the reply unchanged, the frame is forwarded as is instead of
    /// being encoded again (see `drainBackend`).
    var forwarding: (requestID: String, body: [UInt8])?
    /// While a client's request is being handled: its id and body frame as received. A dispatch of that
    /// request to a worker forwards these bytes (with the broker's attempt count appended) instead of
    /// encoding the Envelope again. Queued requests dispatched later are encoded as usual.
    var incoming: (requestID: String, body: [UInt8])?
    /// True under CURVE: only then does a message carry the key its connection authenticated with, and
    /// reading that metadata is worth its cost on every frame.
    let authenticated: Bool

    init(server: BrokerServer) throws {
        let config = server.configuration
        do {
            frontend = try server.context.socket(.router)
            backend = try server.context.socket(.router)
            // libzmq drops a peer that sends a frame over this hard limit; up to it, oversized
            // bodies get a RESOURCE_EXHAUSTED reply instead.
            let hardLimit = Int64(config.maxBodyBytes) * 4 + 65_536
            for socket in [frontend, backend] {
                try socket.setMaxMessageSize(hardLimit)
                try socket.setHighWaterMarks(send: 100_000, receive: 100_000)
            }
            if let curve = server.curve {
                // The ZAP endpoint is bound before any CURVE socket, so no handshake goes unchecked.
                let handler = try server.context.socket(.rep)
                try handler.bind(ZAP.endpoint)
                zap = handler
                try frontend.makeCurveServer(secretKey: curve.secretKey, zapDomain: AccessPolicy.clientDomain)
                try backend.makeCurveServer(secretKey: curve.secretKey, zapDomain: AccessPolicy.workerDomain)
                // Requests are scoped to (routing id, key), so a routing id that leaked cannot be
                // taken over by another key while its connection lives; ZMTP heartbeats drop dead
                // connections, so a reconnecting client gets its id back within seconds.
                try frontend.setRouterHandover(false)
                try frontend.setHeartbeats(intervalMs: 1_000, timeoutMs: 3_000)
            } else {
                zap = nil
                // Clients keep their routing id across reconnects (requests are scoped to it): a
                // reconnection takes the id over from the connection it replaces.
                try frontend.setRouterHandover(true)
            }
        } catch {
            throw BrokerError.socket(error)
        }
        do { try frontend.bind(server.frontend) } catch { throw BrokerError.bindFailed(endpoint: server.frontend, error) }
        do { try backend.bind(server.backend) } catch { throw BrokerError.bindFailed(endpoint: server.backend, error) }
        endpoints = BrokerServer.Endpoints(
            frontend: (try? frontend.lastEndpoint()) ?? server.frontend,
            backend: (try? backend.lastEndpoint()) ?? server.backend)
        authenticated = server.curve != nil
        mailbox = server.mailbox
        logger = server.logger
        state = BrokerState(configuration: config, now: unixTimeMs())
    }

    func run() {
        var poller = Poller()
        let frontendIndex = poller.add(frontend)
        let backendIndex = poller.add(backend)
        let mailboxIndex = poller.add(fileDescriptor: mailbox.wakeup.readDescriptor)
        let zapIndex = zap.map { poller.add($0) }
        logger.info("broker routing", metadata: ["frontend": "\(endpoints.frontend)", "backend": "\(endpoints.backend)"])
        while true {
            var now = unixTimeMs()
            let wait = max(0, min(state.nextTimer(now: now) - now, 100))
            do {
                try poller.poll(timeoutMs: Int(wait))
            } catch {
                logger.error("poll failed: \(error)")
                break
            }
            if poller.isReadable(mailboxIndex) {
                for command in mailbox.take() {
                    switch command {
                    case .stop(let drainMs):
                        drainUntil = unixTimeMs() + max(0, drainMs)
                        logger.info("broker draining", metadata: ["pending": "\(state.pendingCount)"])
                    }
                }
            }
            if let zapIndex, poller.isReadable(zapIndex) { answerZAP() }
            if poller.isReadable(backendIndex) { drainBackend() }
            if poller.isReadable(frontendIndex) { drainFrontend() }
            now = unixTimeMs()
            if now >= state.nextTimer(now: now) || wait == 0 { execute(state.tick(now: now)) }
            if now - lastPublished >= 250 {
                lastPublished = now
                metrics.publish(state.health(HealthRequest(), now: now))
            }
            if let until = drainUntil, state.pendingCount == 0 || now >= until {
                logger.info("broker stopped", metadata: ["unanswered": "\(state.pendingCount)"])
                break
            }
        }
        frontend.close()
        backend.close()
        zap?.close()
    }

    /// Answers libzmq's pending authentication questions (one per CURVE handshake).
    func answerZAP() {
        guard let zap, let access = state.configuration.access else { return }
        for _ in 0..<64 {
            guard let frames = try? zap.receive(dontWait: true) else { return }
            guard let request = ZAP.parse(frames) else {
                try? zap.send(ZAP.malformed())
                continue
            }
            let (reply, admitted) = ZAP.answer(request, policy: access)
            metrics.authenticated(domain: request.domain, admitted: admitted)
            logger.debug("ZAP", metadata: ["domain": "\(request.domain)", "admitted": "\(admitted)", "frames": "\(frames.count)"])
            if !admitted {
                logger.warning("refused a connection", metadata: [
                    "domain": "\(request.domain)", "address": "\(request.address)",
                    "key": "\(request.publicKey ?? "(none: \(request.mechanism))")"])
            }
            try? zap.send(reply)
        }
    }

    /// Reads what the clients sent, a bounded batch at a time so the backend is not starved.
    func drainFrontend() {
        for _ in 0..<512 {
            let frames: [[UInt8]], key: String?
            do { (frames, key) = try receive(frontend) } catch { return }
            guard let routing = frames.first else { continue }
            let client = PeerID(routing)
            let now = unixTimeMs()
            do {
                let message = try ClientMessage.decode(frames.dropFirst(), maxBodyBytes: state.configuration.maxBodyBytes)
                defer { incoming = nil }
                if case .request(let envelope) = message {
                    metrics.requestReceived(service: envelope.service)
                    if frames.count == 4 { incoming = (envelope.requestID, frames[3]) }
                    if drainUntil != nil {
                        // Clients re-send requests marked retryable, reaching the next broker.
                        var reply = Reply(requestID: envelope.requestID, status: .unavailable, message: "the broker is shutting down; retry")
                        reply.metadata["prism-retry"] = "true"
                        execute([.reply(to: client, reply, service: envelope.service, elapsedMs: 0)])
                        continue
                    }
                }
                execute(state.handle(client: client, key: key, message, now: now))
            } catch {
                metrics.malformedMessage(socket: "frontend", reason: error.metricReason)
                rejectMalformed(client: client, frames: frames, error)
            }
        }
    }

    /// Answers a client message that failed to decode, when it carries our protocol tag.
    func rejectMalformed(client: PeerID, frames: [[UInt8]], _ error: WireError) {
        switch error {
        case .unknownProtocol, .wrongFrameCount:
            return  // not speaking our protocol: nothing sensible to answer
        case .bodyTooLarge:
            let id = (try? Envelope(serializedBytes: frames[3]))?.requestID ?? ""
            execute(state.reject(client: client, requestID: id, code: .resourceExhausted, message: error.description))
        default:
            execute(state.reject(client: client, requestID: "", code: .invalidArgument, message: error.description))
        }
    }

    func drainBackend() {
        for _ in 0..<512 {
            let frames: [[UInt8]], key: String?
            do { (frames, key) = try receive(backend) } catch { return }
            guard let routing = frames.first else { continue }
            do {
                let message = try WorkerMessage.decode(frames.dropFirst(), maxBodyBytes: state.configuration.maxBodyBytes)
                // The broker only fills in an empty worker id; otherwise the client gets the worker's bytes.
                if case .reply(let reply) = message, !reply.workerID.isEmpty, frames.count == 4 {
                    forwarding = (reply.requestID, frames[3])
                }
                defer { forwarding = nil }
                execute(state.handle(worker: PeerID(routing), key: key, message, encoded: forwarding?.body, now: unixTimeMs()))
            } catch {
                metrics.malformedMessage(socket: "backend", reason: error.metricReason)
                if case .bodyTooLarge(let bytes, let limit) = error { oversizedReply(frames, routing: routing, key: key, bytes: bytes, limit: limit) }
            }
        }
    }

    /// A worker's reply over the body limit still answers its request — with RESOURCE_EXHAUSTED and
    /// no body — so the caller learns why at once and the worker's slot is freed (dropping it would
    /// leave the request running until its deadline and the slot taken for good).
    func oversizedReply(_ frames: [[UInt8]], routing: [UInt8], key: String?, bytes: Int, limit: Int) {
        guard case .reply(var reply)? = try? WorkerMessage.decode(frames.dropFirst(), maxBodyBytes: .max) else { return }
        reply.body = Data()
        reply.metadata = [:]
        reply.status = Status(.resourceExhausted, "the worker's reply (\(bytes) bytes) exceeds the broker's \(limit)-byte body limit")
        execute(state.handle(worker: PeerID(routing), key: key, .reply(reply), now: unixTimeMs()))
    }

    func execute(_ actions: [BrokerAction]) {
        for action in actions {
            switch action {
            case .reply(let client, let reply, let service, let elapsedMs):
                metrics.replied(service: service, code: reply.status.code, elapsedMs: elapsedMs)
                if let forwarding, forwarding.requestID == reply.requestID {
                    send(frontend, to: client, ClientResponse.replyFrames(encoded: forwarding.body))
                } else {
                    send(frontend, to: client, ClientResponse.reply(reply).frames)
                }
            case .health(let client, let health):
                send(frontend, to: client, ClientResponse.health(health).frames)
            case .dispatch(let worker, let envelope):
                if let incoming, incoming.requestID == envelope.requestID {
                    send(backend, to: worker, BrokerMessage.requestFrames(encoded: incoming.body, attempt: envelope.attempt))
                } else {
                    send(backend, to: worker, BrokerMessage.request(envelope).frames)
                }
            case .cancel(let worker, let requestID):
                var cancel = Cancel()
                cancel.requestID = requestID
                send(backend, to: worker, BrokerMessage.cancel(cancel).frames)
            case .heartbeat(let worker):
                send(backend, to: worker, BrokerMessage.heartbeat(Heartbeat()).frames)
            case .disconnect(let worker, let reason):
                var disconnect = Disconnect()
                disconnect.reason = reason
                send(backend, to: worker, BrokerMessage.disconnect(disconnect).frames)
            case .refuseWorker(let worker, let reason):
                logger.warning("refused a worker", metadata: ["peer": "\(worker)", "reason": "\(reason)"])
                metrics.workerRefused()
                var disconnect = Disconnect()
                disconnect.reason = reason
                disconnect.code = .permissionDenied
                send(backend, to: worker, BrokerMessage.disconnect(disconnect).frames)
            case .event(let event):
                metrics.record(event)
                log(event)
            }
        }
    }

    /// One message, and the key of its connection under CURVE.
    func receive(_ socket: Socket) throws(ZeroMQError) -> (frames: [[UInt8]], key: String?) {
        authenticated ? try socket.receiveAuthenticated(dontWait: true) : (try socket.receive(dontWait: true), nil)
    }

    func send(_ socket: Socket, to peer: PeerID, _ frames: [[UInt8]]) {
        do {
            try socket.send([peer.bytes] + frames, dontWait: true)
        } catch {
            // The peer is gone (or hopelessly behind); its requests are covered by heartbeats and retries.
            metrics.unroutableSend()
        }
    }

    func log(_ event: BrokerEvent) {
        switch event {
        case .workerRegistered(let id, let service, let capacity, let name):
            logger.info("worker ready", metadata: ["worker": "\(name)", "peer": "\(id)", "service": "\(service)", "capacity": "\(capacity)"])
        case .workerLost(let id, let service, let reason, let inFlight):
            logger.warning("worker lost", metadata: ["peer": "\(id)", "service": "\(service)", "reason": "\(reason)", "in_flight": "\(inFlight)"])
        case .redispatched(let requestID, let service, let attempt):
            logger.info("request re-dispatched", metadata: ["request": "\(requestID)", "service": "\(service)", "attempt": "\(attempt)"])
        case .unknownWorker(let id, let command):
            logger.debug("message from unknown worker", metadata: ["peer": "\(id)", "command": "\(command)"])
        case .retryAbsorbed, .replayed, .lateReplyDropped:
            break
        }
    }
}
