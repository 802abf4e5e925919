import Foundation
import PrismTeacher
import PrismWire
import PrismWorker

/// The "teacher" service: takes a `TeacherShard` and answers a `TeacherShardResult` with one
/// result (and its own status) per prompt, in order.
public struct TeacherHandler: SingleRequestHandler {
    public let backend: any TeacherBackend
    /// Prompts per shard above which the shard is refused (INVALID_ARGUMENT).
    public let maxPromptsPerShard: Int

    public init(backend: any TeacherBackend, maxPromptsPerShard: Int = 10_000) {
        self.backend = backend
        self.maxPromptsPerShard = maxPromptsPerShard
    }

    public func handle(_ request: WorkRequest) async throws -> WorkResult {
        let shard: TeacherShard
        do { shard = try TeacherShard(serializedBytes: request.body) } catch {
            throw HandlerError(.invalidArgument, "the body is not a prism.v1.TeacherShard: \(error)")
        }
        guard shard.prompts.count <= maxPromptsPerShard else {
            throw HandlerError(.invalidArgument, "shard has \(shard.prompts.count) prompts (limit \(maxPromptsPerShard))")
        }
        let start = monotonicNs()
        let outputs = await backend.generate(shard.prompts, decoding: shard.decoding)
        let perPromptMs = UInt32(min(Double(UInt32.max), Double(monotonicNs() - start) / 1e6 / Double(max(1, shard.prompts.count))))
        var result = TeacherShardResult()
        result.shardID = shard.shardID
        result.results = shard.prompts.enumerated().map { index, prompt in
            let output = index < outputs.count ? outputs[index] : .failure(.internal, "the backend returned too few outputs")
            var r = TeacherResult()
            r.sampleID = prompt.sampleID
            r.status = output.status
            r.explanation = output.text
            r.markedExplanation = output.marked
            r.teacherID = backend.teacherID
            r.promptTokens = UInt32(clamping: output.promptTokens)
            r.completionTokens = UInt32(clamping: output.completionTokens)
            r.finishReason = output.finishReason
            r.latencyMs = perPromptMs
            return r
        }
        return .ok(try result.serializedData())
    }
}
