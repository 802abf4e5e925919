import Foundation
import Logging
import PrismClient
import PrismData
import PrismTeacher
import PrismWire
import ZeroMQ

/// What `prism distill` does and where.
public struct DistillOptions: Sendable {
    public var samples: URL
    public var catalog: URL
    public var output: URL
    public var broker: String
    /// CURVE keys for the broker connection (nil: plain).
    public var curve: CurveClientKeys?
    public var service = "teacher"
    public var splits: Set<Split> = Set(Split.allCases)
    /// Only the first N selected samples (in file order).
    public var limit: Int?
    /// At most this many train samples (the first in file order); valid and test samples in full.
    /// A student trained on N samples needs no more goldens than that.
    public var maxTrainSamples: Int?
    public var shardSize = 32
    public var maxInFlight = 8
    public var shardTimeoutMs: Int64 = 120_000
    /// Sends of one prompt's shard before it is recorded as failed; halves after the second.
    public var maxShardAttempts = 4
    public var decoding = Decoding()
    /// Ask again for samples whose stored result is a teacher failure.
    public var retryFailed = false
    /// Ask again for samples whose stored result is a transient failure (the fleet or the teacher's server
    /// was unavailable, overloaded or too slow), even without `retryFailed`.
    public var retryTransient = true
    public var builder = OraclePromptBuilder()
    public var filter = GoldenFilter()
    /// What to do with a golden the grounding checker does not find fully grounded (GROUNDING.md).
    public var unmarkable = UnmarkablePolicy.keep
    public var progress = ProgressReporter.Style.auto

    public init(samples: URL, catalog: URL, output: URL, broker: String) {
        self.samples = samples
        self.catalog = catalog
        self.output = output
        self.broker = broker
    }
}

/// The numbers of a run.
public struct DistillSummary: Sendable, Codable {
    public var samples = 0
    public var alreadyDone = 0
    public var done = 0
    public var failed = 0
    public var filtered: [String: Int] = [:]
    public var goldens = 0
    public var seconds = 0.0
    public var shardRetries = 0
    /// Goldens (every one marked with grounding marks, GROUNDING.md) the checker found not fully
    /// grounded (kept with only their grounded spans marked, or dropped), and their problem kinds.
    public var unmarkable = 0
    public var unmarkableDropped = 0
    public var unmarkableProblems: [String: Int] = [:]
    /// Failures in the store for the selected samples after the run (this run's and earlier runs'), by status.
    public var storedFailures: [String: Int] = [:]

    /// What to change for each reason goldens were dropped.
    var filterHints: String {
        let hints = [
            "truncated": "answers cut at max new tokens: raise --max-new-tokens, or end answers with `prism worker --stop`",
            "empty": "answers with almost no words: check the prompt template and --api (chat or completions)",
            "repetition": "answers that repeat themselves: lower --temperature, or use a larger teacher",
            "prompt_echo": "answers that repeat the prompt: use --api chat with `prism worker --system-prompt`",
        ]
        return filtered.keys.sorted().compactMap { reason in hints[reason].map { "\ndropped as \(reason) (\(filtered[reason] ?? 0)): \($0)" } }.joined()
    }

    var storedFailuresText: String {
        let total = storedFailures.values.reduce(0, +)
        guard total > 0 else { return "" }
        let kinds = storedFailures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\nstored failures \(total) (\(kinds)): transient ones are asked again on the next run, the others with --retry-failed"
    }

    var unmarkableText: String {
        guard unmarkable > 0 else { return "" }
        let kinds = unmarkableProblems.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return " (\(kinds)); \(unmarkableDropped > 0 ? "\(unmarkableDropped) dropped" : "kept with their grounded spans marked; --unmarkable drop leaves them out")"
    }

    enum CodingKeys: String, CodingKey {
        case samples, alreadyDone, done, failed, filtered, goldens, seconds, shardRetries, unmarkable, unmarkableDropped
        case unmarkableProblems, storedFailures
    }

    public var samplesPerSecond: Double { seconds > 0 ? Double(done) / seconds : 0 }

    public var text: String {
        let filteredText = filtered.isEmpty ? "0" : filtered.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return """
        samples \(samples): \(alreadyDone) done before, \(done) done now (\(String(format: "%.1f", samplesPerSecond)) samples/s over \(String(format: "%.1f", seconds)) s)
        failed \(failed), filtered \(filteredText), goldens \(goldens), shard retries \(shardRetries)
        grounding marks: \(goldens) goldens marked, \(unmarkable) not fully grounded\(unmarkableText)\(storedFailuresText)\(filterHints)
        """
    }
}

/// The distillation coordinator: renders Oracle prompts, sends them in shards through the broker
/// to the teacher service with a bounded number in flight, and stores every answer durably and
/// exactly once, so a crashed run resumes where it stopped.
public struct Coordinator {
    let options: DistillOptions
    let logger: Logger

    public init(options: DistillOptions, logger: Logger = Logger(label: "prism.distill")) {
        self.options = options
        self.logger = logger
    }

    struct Unit: Sendable {
        var indices: [Int]
        var attempts: Int
    }

    /// At most `cap` of the train samples, spread evenly over the file (every k-th), so that every user
    /// keeps a share of them (the file lists each user's samples together: its first N would cover the
    /// first users only); valid and test samples all stay. Deterministic, so a resumed run picks the same.
    public static func cappingTrainSamples(_ samples: [Sample], at cap: Int) -> [Sample] {
        let train = samples.indices.filter { samples[$0].split == .train }
        guard cap < train.count else { return samples }
        var keep = Set<Int>()
        if cap > 0 {
            let step = Double(train.count) / Double(cap)
            for k in 0..<cap { keep.insert(train[min(train.count - 1, Int(Double(k) * step))]) }
        }
        return samples.indices.filter { samples[$0].split != .train || keep.contains($0) }.map { samples[$0] }
    }

    public func run() async throws -> DistillSummary {
        guard options.shardSize >= 1, options.maxInFlight >= 1, options.maxShardAttempts >= 1 else {
            throw DistillError.invalidOptions("shard size, in-flight shards and attempts must be at least 1")
        }
        try FileManager.default.createDirectory(at: options.output, withIntermediateDirectories: true)
        var samples = try SampleIO.readSamples(from: options.samples).filter { options.splits.contains($0.split) }
        if let cap = options.maxTrainSamples { samples = Self.cappingTrainSamples(samples, at: cap) }
        if let limit = options.limit { samples = Array(samples.prefix(limit)) }
        let planner = PromptPlanner(builder: options.builder, catalog: try SampleIO.readCatalog(from: options.catalog))
        let store = try ResultStore(url: options.output.appendingPathComponent("results.jsonl"))
        if store.repairedBytes > 0 { logger.warning("cut a torn record from the store", metadata: ["bytes": "\(store.repairedBytes)"]) }
        let decoding = options.decoding.fingerprint

        var summary = DistillSummary()
        summary.samples = samples.count
        let pending = pendingIndices(samples, store: store, decoding: decoding)
        summary.alreadyDone = samples.count - pending.count
        var queue = stride(from: 0, to: pending.count, by: options.shardSize).map {
            Unit(indices: Array(pending[$0..<min($0 + options.shardSize, pending.count)]), attempts: 0)
        }
        logger.info("distilling", metadata: ["samples": "\(samples.count)", "pending": "\(pending.count)", "shards": "\(queue.count)"])

        let client = try PrismClient(configuration: ClientConfiguration(broker: options.broker, curve: options.curve), logger: logger)
        let progress = ProgressReporter(total: pending.count, style: options.progress)
        let start = monotonicNs()
        var pacing = ShardPacing(maxInFlight: options.maxInFlight, floorTimeoutMs: options.shardTimeoutMs)
        var lastHealth: UInt64 = 0
        func refreshCapacity() async {
            lastHealth = monotonicNs()
            guard let health = await client.health(service: options.service, timeoutMs: 1_000),
                  let service = health.services.first(where: { $0.service == options.service }) else { return }
            pacing.observeCapacity(Int(service.capacity))
        }
        await refreshCapacity()
        try await withThrowingTaskGroup(of: (Unit, [TeacherPrompt], Result<TeacherShardResult, PrismClientError>, Double).self) { group in
            var inFlight = 0
            func launch() throws {
                while inFlight < pacing.limit, !queue.isEmpty {
                    let unit = queue.removeFirst()
                    let prompts = unit.indices.map { planner.prompt(for: samples[$0]) }
                    var shard = TeacherShard()
                    shard.shardID = "\(samples[unit.indices[0]].sampleID)+\(unit.indices.count)#\(unit.attempts)"
                    shard.prompts = prompts
                    shard.decoding = options.decoding
                    let body = try shard.serializedData()
                    let (service, timeout) = (options.service, pacing.timeoutMs(prompts: unit.indices.count))
                    group.addTask {
                        if unit.attempts > 0 {  // back off before a retry
                            try? await Task.sleep(for: .milliseconds(min(2_000, 100 << min(unit.attempts - 1, 5))))
                        }
                        let sent = monotonicNs()
                        func seconds() -> Double { Double(monotonicNs() - sent) / 1e9 }
                        let reply: CallResult
                        do {
                            reply = try await client.call(service: service, method: "generate", body: body, timeoutMs: timeout)
                        } catch let error as PrismClientError {
                            return (unit, prompts, .failure(error), seconds())
                        } catch {
                            return (unit, prompts, .failure(.status(.unknown, message: "\(error)", requestID: "")), seconds())
                        }
                        do {
                            return (unit, prompts, .success(try TeacherShardResult(serializedBytes: reply.body)), seconds())
                        } catch {
                            return (unit, prompts, .failure(.status(.internal, message: "bad TeacherShardResult: \(error)", requestID: reply.requestID)),
                                    seconds())
                        }
                    }
                    inFlight += 1
                }
            }
            try launch()
            while let (unit, prompts, outcome, seconds) = try await group.next() {
                inFlight -= 1
                if case .success = outcome { pacing.observeShard(seconds: seconds, prompts: unit.indices.count) }
                if monotonicNs() - lastHealth > 2_000_000_000 { await refreshCapacity() }
                let (records, retry) = settle(unit, prompts: prompts, outcome: outcome, samples: samples, decoding: decoding)
                let added = try store.append(records)
                for record in records.prefix(added) { count(record, into: &summary) }
                if let retry {
                    summary.shardRetries += 1
                    queue.insert(contentsOf: retry, at: 0)
                }
                progress.advance(by: added)
                try launch()
            }
        }
        progress.finish()
        await client.close()
        summary.seconds = Double(monotonicNs() - start) / 1e9
        try await export(samples: samples, catalog: planner.catalog, store: store, decoding: decoding, summary: &summary)
        return summary
    }

    /// The samples to ask the teacher for: those without a stored result, and those whose stored failure
    /// is transient (or any failure, with `retryFailed`).
    func pendingIndices(_ samples: [Sample], store: ResultStore, decoding: String) -> [Int] {
        samples.indices.filter { index in
            guard let record = store.record(sampleID: samples[index].sampleID, decoding: decoding) else { return true }
            guard record.status != "OK" else { return false }
            return options.retryFailed || (options.retryTransient && Self.transientStatuses.contains(record.status))
        }
    }

    /// Records for what came back, and the units to send again.
    func settle(_ unit: Unit, prompts: [TeacherPrompt], outcome: Result<TeacherShardResult, PrismClientError>,
                samples: [Sample], decoding: String) -> ([ResultRecord], [Unit]?) {
        let attempts = unit.attempts + 1
        switch outcome {
        case .success(let result):
            let bySample = Dictionary(result.results.map { ($0.sampleID, $0) }, uniquingKeysWith: { first, _ in first })
            var records: [ResultRecord] = []
            var missing: [Int] = []
            for index in unit.indices {
                let sample = samples[index]
                guard let answer = bySample[sample.sampleID] else { missing.append(index); continue }
                var record = baseRecord(sample, decoding: decoding, attempts: attempts)
                record.teacherID = answer.teacherID
                record.status = answer.status.code.name
                record.message = answer.status.message
                record.explanation = answer.explanation.trimmingCharacters(in: .whitespacesAndNewlines)
                record.finishReason = answer.finishReason
                if !answer.markedExplanation.isEmpty { record.marked = answer.markedExplanation }
                record.latencyMs = Int(answer.latencyMs)
                if answer.promptTokens > 0 || answer.completionTokens > 0 {
                    (record.promptTokens, record.completionTokens) = (Int(answer.promptTokens), Int(answer.completionTokens))
                }
                if answer.status.code == .ok {
                    record.filtered = options.filter.rejection(text: record.explanation, finishReason: record.finishReason,
                                                               template: options.builder.template.text)
                }
                records.append(record)
            }
            return (records, missing.isEmpty ? nil : [Unit(indices: missing, attempts: attempts)])
        case .failure(let error):
            if attempts >= options.maxShardAttempts {
                logger.warning("shard failed for good", metadata: ["samples": "\(unit.indices.count)", "error": "\(error)"])
                return (unit.indices.map { index in
                    var record = baseRecord(samples[index], decoding: decoding, attempts: attempts)
                    record.status = error.code?.name ?? "UNAVAILABLE"
                    record.message = "fleet: \(error)"
                    return record
                }, nil)
            }
            logger.info("shard failed; retrying", metadata: ["samples": "\(unit.indices.count)", "attempt": "\(attempts)", "error": "\(error)"])
            if attempts >= 2 && unit.indices.count > 1 {
                let half = unit.indices.count / 2
                return ([], [Unit(indices: Array(unit.indices[..<half]), attempts: attempts),
                             Unit(indices: Array(unit.indices[half...]), attempts: attempts)])
            }
            return ([], [Unit(indices: unit.indices, attempts: attempts)])
        }
    }

    func baseRecord(_ sample: Sample, decoding: String, attempts: Int) -> ResultRecord {
        ResultRecord(sampleID: sample.sampleID, userID: sample.userID, itemID: sample.itemID, split: sample.split.rawValue,
                     teacherID: "", decoding: decoding, status: "", message: "", explanation: "", finishReason: "",
                     filtered: nil, latencyMs: 0, attempts: attempts)
    }

    func count(_ record: ResultRecord, into summary: inout DistillSummary) {
        summary.done += 1
        if record.status != "OK" { summary.failed += 1 }
        else if let reason = record.filtered { summary.filtered[reason, default: 0] += 1 }
    }
}
