import Foundation
import PrismClient
import PrismData
import PrismEval
import PrismExplain
import PrismWire
import ZeroMQ

/// Calls a prism.explain service for every case (some as unknown users), and for probes the same
/// request as an unknown and as another real user.
struct ServiceCaller {
    var broker: String, curve: CurveClientKeys?, service: String, timeoutMs: Int64, concurrency: Int

    struct Collected {
        var outputs: SystemOutputs
        var users: [String: String]
        var failures: Int
        var firstFailure: String?
    }

    /// `allowUngrounded`: the student's own first text (no guard); `unconstrained`: a marked student decodes
    /// without its grounding constraints.
    func collect(_ cases: [EvalCase], name: String, unknownShare: Double, probes: Int, allowUngrounded: Bool,
                 unconstrained: Bool = false) async throws -> Collected {
        let unknownCount = Int((Double(cases.count) * unknownShare).rounded())
        // Calls: every case (the last `unknownCount` as unknown users), then the probes' two variants.
        var calls: [(sample: Sample, user: String, slot: Slot)] = []
        for (i, c) in cases.enumerated() {
            let unknown = i >= cases.count - unknownCount
            calls.append((c.sample, unknown ? "new-user-\(i)" : c.sample.userID, .main(c.sample.sampleID)))
        }
        let known = cases.prefix(cases.count - unknownCount)
        let probed = Array(known.prefix(max(0, probes)))
        for (k, c) in probed.enumerated() {
            let other = known[(known.startIndex + (k + known.count / 2) % max(1, known.count))].sample.userID
            calls.append((c.sample, c.sample.userID, .probe(k, 0)))
            calls.append((c.sample, "new-user-probe-\(k)", .probe(k, 1)))
            calls.append((c.sample, other == c.sample.userID ? "\(other)-other" : other, .probe(k, 2)))
        }
        let client = try PrismClient(configuration: ClientConfiguration(broker: broker, curve: curve))
        let progress = EvalProgress(total: calls.count)
        var texts: [String: String] = [:], users: [String: String] = [:], latencies: [Double] = []
        var probeTexts = [[String?]](repeating: [nil, nil, nil], count: probed.count)
        var failures = 0, firstFailure: String?, servedAs: [String: Int] = [:]
        await withTaskGroup(of: (Int, Result<(ExplainReply, Double), Error>).self) { group in
            var next = 0
            func submit() {
                guard next < calls.count else { return }
                let index = next, call = calls[index]
                next += 1
                group.addTask {
                    var request = ExplainRequest()
                    request.userID = call.user
                    request.historyItemIds = call.sample.history
                    request.itemID = call.sample.itemID
                    request.allowUngrounded = allowUngrounded
                    request.unconstrained = unconstrained
                    let sent = Date()
                    do {
                        let result = try await client.call(service: service, body: try request.serializedData(), timeoutMs: timeoutMs)
                        let reply = try ExplainReply(serializedBytes: result.body)
                        return (index, .success((reply, Date().timeIntervalSince(sent) * 1000)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            for _ in 0..<max(1, concurrency) { submit() }
            while let (index, outcome) = await group.next() {
                switch outcome {
                case .success(let (reply, ms)):
                    let text = reply.explanation
                    switch calls[index].slot {
                    case .main(let id):
                        texts[id] = text
                        servedAs[Self.name(reply.grounding), default: 0] += 1
                        users[id] = calls[index].user
                        latencies.append(ms)
                    case .probe(let k, let variant): probeTexts[k][variant] = text
                    }
                case .failure(let error):
                    failures += 1
                    if firstFailure == nil { firstFailure = "\(error)" }
                }
                progress.step()
                submit()
            }
        }
        progress.finish()
        await client.close()
        let probeResults = probeTexts.compactMap { t -> SensitivityProbe? in
            guard let real = t[0], let unknown = t[1], let other = t[2] else { return nil }
            return SensitivityProbe(real: real, unknown: unknown, other: other)
        }
        return Collected(outputs: SystemOutputs(name: name, texts: texts, latencyMs: latencies, probes: probeResults, servedAs: servedAs),
                         users: users, failures: failures, firstFailure: firstFailure)
    }

    enum Slot { case main(String), probe(Int, Int) }

    static func name(_ grounding: Prism_V1_Grounding) -> String {
        switch grounding {
        case .unchecked: return "unchecked"
        case .grounded: return "grounded"
        case .groundedBeam: return "grounded_beam"
        case .fallback: return "fallback"
        case .ungrounded: return "ungrounded"
        case .UNRECOGNIZED(let n): return "grounding_\(n)"
        }
    }
}

/// A one-line progress bar on a terminal (standard error); silent otherwise.
final class EvalProgress {
    let total: Int
    var done = 0
    let enabled = isatty(2) == 1

    init(total: Int) { self.total = total }

    func step() {
        done += 1
        guard enabled, done == total || done % max(1, total / 100) == 0 else { return }
        let width = 30, filled = total == 0 ? width : width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r  calling the service \(bar) \(done)/\(total)".utf8))
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\n".utf8)) } }
}
