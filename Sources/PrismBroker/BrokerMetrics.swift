import Metrics
import PrismWire

/// The broker's numbers, published through swift-metrics (Prometheus in `prism broker`).
/// Lives on the broker's I/O thread: the label-keyed caches are not shared.
final class BrokerMetrics {
    private var requests: [String: Counter] = [:]
    private var replies: [String: [StatusCode: Counter]] = [:]
    private var redispatches: [String: Counter] = [:]
    private var queueDepth: [String: Gauge] = [:]
    private var inFlight: [String: Gauge] = [:]
    private var workers: [String: Gauge] = [:]
    private let latency = Timer(label: "prism_broker_request_duration_seconds", preferredDisplayUnit: .seconds)
    private let retriesAbsorbed = Counter(label: "prism_broker_retries_absorbed_total")
    private let replayed = Counter(label: "prism_broker_replayed_total")
    private let lateReplies = Counter(label: "prism_broker_late_replies_dropped_total")
    private let workersLost = Counter(label: "prism_broker_workers_lost_total")
    private let unroutable = Counter(label: "prism_broker_unroutable_sends_total")
    private var malformed: [String: Counter] = [:]
    private var authentications: [String: Counter] = [:]
    private let refusedWorkers = Counter(label: "prism_broker_workers_refused_total")
    /// Service names are chosen by clients: the first `maxServiceLabels` distinct names get their own
    /// series, any later one is counted under `(other)`, so that no input grows the metrics unbounded.
    static let maxServiceLabels = 256
    static let otherService = "(other)"
    private var serviceLabels: Set<String> = []

    /// The label under which `service` is counted.
    func label(_ service: String) -> String {
        if serviceLabels.contains(service) { return service }
        guard serviceLabels.count < Self.maxServiceLabels else { return Self.otherService }
        serviceLabels.insert(service)
        return service
    }

    func requestReceived(service name: String) {
        let service = label(name)
        cached(&requests, service) { Counter(label: "prism_broker_requests_total", dimensions: [("service", service)]) }.increment()
    }

    func replied(service name: String, code: StatusCode, elapsedMs: Int64) {
        let service = label(name)
        // Two levels, so that the hot path builds no key string per reply.
        let counter: Counter
        if let known = replies[service]?[code] {
            counter = known
        } else {
            counter = Counter(label: "prism_broker_replies_total", dimensions: [("service", service), ("code", code.name)])
            replies[service, default: [:]][code] = counter
        }
        counter.increment()
        latency.recordMilliseconds(elapsedMs)
    }

    func record(_ event: BrokerEvent) {
        switch event {
        case .redispatched(_, let name, _):
            let service = label(name)
            cached(&redispatches, service) { Counter(label: "prism_broker_redispatches_total", dimensions: [("service", service)]) }.increment()
        case .retryAbsorbed: retriesAbsorbed.increment()
        case .replayed: replayed.increment()
        case .lateReplyDropped: lateReplies.increment()
        case .workerLost: workersLost.increment()
        case .workerRegistered, .unknownWorker: break
        }
    }

    func malformedMessage(socket: String, reason: String) {
        let key = socket + "\u{0}" + reason
        cached(&malformed, key) {
            Counter(label: "prism_broker_malformed_messages_total", dimensions: [("socket", socket), ("reason", reason)])
        }.increment()
    }

    func unroutableSend() { unroutable.increment() }

    func authenticated(domain: String, admitted: Bool) {
        let result = admitted ? "admitted" : "refused"
        cached(&authentications, domain + "\u{0}" + result) {
            Counter(label: "prism_broker_authentications_total", dimensions: [("domain", domain), ("result", result)])
        }.increment()
    }

    func workerRefused() { refusedWorkers.increment() }

    /// Publishes queue depth, in-flight count and live workers of every service.
    func publish(_ health: HealthReply) {
        for service in health.services {
            let name = label(service.service)
            cached(&queueDepth, name) { Gauge(label: "prism_broker_queue_depth", dimensions: [("service", name)]) }.record(Int(service.queued))
            cached(&inFlight, name) { Gauge(label: "prism_broker_in_flight", dimensions: [("service", name)]) }.record(Int(service.inFlight))
            cached(&workers, name) { Gauge(label: "prism_broker_workers", dimensions: [("service", name)]) }.record(Int(service.workers))
        }
    }

    private func cached<M>(_ table: inout [String: M], _ key: String, _ make: () -> M) -> M {
        if let metric = table[key] { return metric }
        let metric = make()
        table[key] = metric
        return metric
    }
}

extension WireError {
    /// A short, bounded label for metrics.
    var metricReason: String {
        switch self {
        case .wrongFrameCount: return "frame_count"
        case .unknownProtocol: return "protocol_tag"
        case .unknownCommand: return "command"
        case .commandNotAllowed: return "command_not_allowed"
        case .malformedCommandFrame: return "command_frame"
        case .malformedBody: return "protobuf"
        case .bodyTooLarge: return "too_large"
        }
    }
}
