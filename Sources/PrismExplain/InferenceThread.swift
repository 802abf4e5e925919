import TensorKernels
import ZeroMQ

/// A dedicated OS thread that owns the student model and runs every batch on it, so long BLAS
/// calls never block Swift's cooperative pool and the model's scratch is never shared.
public final class InferenceThread: Sendable {
    typealias Outcomes = [Result<ExplainOutcome, ExplainError>]

    private let thread: OwnedThread<StudentModel>
    /// The model's identity and limits, known once it has loaded.
    public let modelID: String
    public let manifest: StudentManifest
    public let hasUserEmbeddings: Bool
    /// The student was trained with grounding marks and decodes under them.
    public let constrainsSpans: Bool

    /// Loads the model on the new thread; throws (and ends the thread) when the folder is broken.
    /// With `groundingGuard`, no explanation that fails its check is served (see `GroundingGuard`).
    /// `constrained`: a student trained with grounding marks decodes under them (GROUNDING.md).
    /// `precision`: see `StudentModel.init`.
    public init(folder: String, blasThreads: Int = 1, groundingGuard: GroundingGuard? = nil, constrained: Bool = true,
                precision: Precision = .fp32) async throws(ExplainError) {
        do {
            thread = try await OwnedThread(name: "prism-inference") {
                try StudentModel(folder: folder, blasThreads: blasThreads, groundingGuard: groundingGuard, constrained: constrained,
                                 precision: precision)
            }
        } catch let error as ExplainError {
            throw error
        } catch {
            throw .brokenModel(folder: folder, reason: "\(error)")
        }
        let loaded = await thread.run { model in
            Loaded(modelID: model.modelID, manifest: model.manifest, hasUserEmbeddings: model.generator.model.users != nil,
                   constrainsSpans: model.isMarked && constrained)
        }
        guard let loaded else { throw .brokenModel(folder: folder, reason: "the inference thread ended") }
        modelID = loaded.modelID
        manifest = loaded.manifest
        hasUserEmbeddings = loaded.hasUserEmbeddings
        constrainsSpans = loaded.constrainsSpans
    }

    /// What the inference thread reports once the model has loaded.
    struct Loaded: Sendable {
        var modelID: String
        var manifest: StudentManifest
        var hasUserEmbeddings: Bool
        var constrainsSpans: Bool
    }

    /// Runs a batch on the inference thread.
    func run(_ batch: [ExplainJob]) async -> Outcomes {
        await thread.run { model in model.explain(batch) }
            ?? batch.map { _ in .failure(.generation("the inference thread is closed")) }
    }

    /// Finishes the queued batches, then ends the thread.
    public func close() async {
        await thread.close()
    }
}
