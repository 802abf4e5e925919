import Metrics
import PrismWire

/// A worker's numbers through swift-metrics (Prometheus with `prism worker --metrics-port`).
/// Used on the worker's I/O thread only.
final class WorkerMetrics {
    let service: String
    private var replies: [StatusCode: Counter] = [:]
    private let duration: Timer
    private let batchSize: Recorder
    private let reconnects: Counter

    init(service: String) {
        self.service = service
        duration = Timer(label: "prism_worker_handle_duration_seconds", dimensions: [("service", service)], preferredDisplayUnit: .seconds)
        batchSize = Recorder(label: "prism_worker_batch_size", dimensions: [("service", service)], aggregate: true)
        reconnects = Counter(label: "prism_worker_reconnects_total", dimensions: [("service", service)])
    }

    func replied(_ code: StatusCode) {
        if let counter = replies[code] { counter.increment(); return }
        let counter = Counter(label: "prism_worker_replies_total", dimensions: [("service", service), ("code", code.name)])
        replies[code] = counter
        counter.increment()
    }

    func handled(batch: Int, nanoseconds: UInt64) {
        batchSize.record(batch)
        duration.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    func reconnected() { reconnects.increment() }
}
