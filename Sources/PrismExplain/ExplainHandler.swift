import Foundation
import Metrics
import PrismData
import PrismTeacher
import PrismWire
import PrismWorker

/// The "prism.explain" service: validates each request, resolves its items against the
/// worker's catalog, and runs the batch on the inference thread.
///
/// - unknown user → the zero user vector; the reply says `cold_start`
/// - unknown item id → INVALID_ARGUMENT naming the id
/// - empty history → allowed (the input says "History: (none)")
/// - oversized history → only the most recent `maxHistoryItems` are considered, then the oldest
///   are dropped to fit the model's input length (`history_dropped` counts both)
public struct ExplainHandler: RequestHandler {
    public let inference: InferenceThread
    public let catalog: ItemCatalog
    public let maxBatchSize: Int
    public let maxHistoryItems: Int
    public let maxBeams: Int
    let metrics = GroundingMetrics()

    public init(inference: InferenceThread, catalog: ItemCatalog, maxBatchSize: Int = 8, maxHistoryItems: Int = 200, maxBeams: Int = 4) {
        self.inference = inference
        self.catalog = catalog
        self.maxBatchSize = max(1, maxBatchSize)
        self.maxHistoryItems = max(0, maxHistoryItems)
        self.maxBeams = max(1, maxBeams)
    }

    public func handle(batch: [WorkRequest]) async -> [WorkResult] {
        let arrived = monotonicNs()
        var results = [WorkResult?](repeating: nil, count: batch.count)
        var jobs: [(index: Int, job: ExplainJob, clipped: Int, ranking: Ranking?)] = []
        for (index, request) in batch.enumerated() {
            switch prepare(request, arrived: arrived) {
            case .success(let (job, clipped, ranking)): jobs.append((index, job, clipped, ranking))
            case .failure(let error): results[index] = .failure(error.code, error.message)
            }
        }
        if !jobs.isEmpty {
            let outcomes = await inference.run(jobs.map(\.job))
            for (entry, outcome) in zip(jobs, outcomes) {
                switch outcome {
                case .success(let done):
                    var reply = ExplainReply()
                    reply.explanation = done.explanation
                    reply.coldStart = done.coldStart
                    reply.modelID = inference.modelID
                    reply.historyDropped = UInt32(clamping: done.historyDropped + entry.clipped)
                    reply.timings.queueUs = done.queueUs
                    reply.timings.encodeUs = done.encodeUs
                    reply.timings.decodeUs = done.decodeUs
                    reply.timings.batchSize = UInt32(clamping: done.batchSize)
                    reply.grounding = done.grounding.wire
                    reply.groundingProblems = done.problems
                    reply.citedItemIds = done.cited
                    reply.constrained = done.constrained
                    if let ranking = entry.ranking { reply.ranking = ranking }
                    metrics.count(done.grounding)
                    results[entry.index] = (try? reply.serializedData()).map { .ok($0) } ?? .failure(.internal, "cannot encode the reply")
                case .failure(let error):
                    results[entry.index] = .failure(.internal, error.description)
                }
            }
        }
        return results.map { $0 ?? .failure(.internal, "no result") }
    }

    /// Turns a request into a job, or the error status to answer with.
    func prepare(_ request: WorkRequest, arrived: UInt64) -> Result<(ExplainJob, Int, Ranking?), HandlerError> {
        let message: ExplainRequest
        do { message = try ExplainRequest(serializedBytes: request.body) } catch {
            return .failure(HandlerError(.invalidArgument, "the body is not a prism.v1.ExplainRequest: \(error)"))
        }
        let item: CatalogItem
        if !message.itemID.isEmpty {
            guard let known = catalog[message.itemID] else {
                return .failure(HandlerError(.invalidArgument, "unknown item id '\(message.itemID)' (recommended item)"))
            }
            item = known
        } else if message.hasItem, !message.item.title.isEmpty || !message.item.itemID.isEmpty {
            item = CatalogItem(facts: message.item)
        } else {
            return .failure(HandlerError(.invalidArgument, "the request names no recommended item (item_id or item)"))
        }
        var history: [CatalogItem] = []
        if !message.historyItemIds.isEmpty {
            var seen = Set<String>()
            let unknown = message.historyItemIds.filter { catalog[$0] == nil && seen.insert($0).inserted }
            guard unknown.isEmpty else {
                let shown = unknown.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
                return .failure(HandlerError(.invalidArgument, "unknown history item id\(unknown.count > 1 ? "s" : "") \(shown)\(unknown.count > 5 ? " and \(unknown.count - 5) more" : "")"))
            }
            history = message.historyItemIds.suffix(maxHistoryItems).compactMap { catalog[$0] }
        } else {
            history = message.historyItems.suffix(maxHistoryItems).map { CatalogItem(facts: $0) }
        }
        let total = max(message.historyItemIds.count, message.historyItems.count)
        let limit = inference.manifest.maxTargetTokens
        let job = ExplainJob(
            userID: message.userID, history: history, item: item,
            maxNewTokens: message.maxNewTokens == 0 ? limit : min(Int(message.maxNewTokens), limit),
            numBeams: message.numBeams == 0 ? 0 : min(Int(message.numBeams), maxBeams), arrivedNs: arrived,
            allowUngrounded: message.allowUngrounded, unconstrained: message.unconstrained)
        return .success((job, total - history.count, message.hasRanking ? message.ranking : nil))
    }
}

extension CatalogItem {
    /// An inline item record from a request.
    init(facts: ItemFacts) {
        self.init(id: facts.itemID, title: facts.title, year: facts.year == 0 ? nil : Int(facts.year), genres: facts.genres,
                  directors: facts.directors, writers: facts.writers, actors: facts.actors, plot: facts.plot.isEmpty ? nil : facts.plot)
    }
}

extension GroundingOutcome {
    var wire: Prism_V1_Grounding {
        switch self {
        case .unchecked: return .unchecked
        case .grounded: return .grounded
        case .groundedBeam: return .groundedBeam
        case .fallback: return .fallback
        case .ungrounded: return .ungrounded
        }
    }
}

/// Replies by grounding outcome (`prism_explain_grounding_total{outcome=…}`).
struct GroundingMetrics: Sendable {
    let counters: [GroundingOutcome: Counter] = Dictionary(uniqueKeysWithValues: GroundingOutcome.allCases.map {
        ($0, Counter(label: "prism_explain_grounding_total", dimensions: [("outcome", $0.rawValue)]))
    })

    func count(_ outcome: GroundingOutcome) { counters[outcome]?.increment() }
}
