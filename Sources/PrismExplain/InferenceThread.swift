import Dispatch
import Synchronization
import ZeroMQ

/// A dedicated OS thread that owns the student model and runs every batch on it, so long BLAS
/// calls never block Swift's cooperative pool and the model's scratch is never shared.
public final class InferenceThread: Sendable {
    typealias Outcomes = [Result<ExplainOutcome, ExplainError>]

    private struct Job: Sendable {
        let batch: [ExplainJob]
        let continuation: CheckedContinuation<Outcomes, Never>
    }

    /// Batches waiting for the thread, and the semaphore it sleeps on.
    private final class JobQueue: Sendable {
        let state = Mutex<(jobs: [Job], closed: Bool)>(([], false))
        let signal = DispatchSemaphore(value: 0)
    }

    private let jobs = JobQueue()
    private let thread: IOThread
    /// The model's identity and limits, known once it has loaded.
    public let modelID: String
    public let manifest: StudentManifest
    public let hasUserEmbeddings: Bool
    /// The student was trained with grounding marks and decodes under them.
    public let constrainsSpans: Bool

    /// Loads the model on the new thread; throws (and ends the thread) when the folder is broken.
    /// With `groundingGuard`, no explanation that fails its check is served (see `GroundingGuard`).
    /// `constrained`: a student trained with grounding marks decodes under them (GROUNDING.md).
    public init(folder: String, blasThreads: Int = 1, groundingGuard: GroundingGuard? = nil, constrained: Bool = true) async throws(ExplainError) {
        let jobs = self.jobs
        let (stream, report) = AsyncStream<Result<Loaded, ExplainError>>.makeStream()
        thread = IOThread(name: "prism-inference") {
            let model: StudentModel
            do {
                model = try StudentModel(folder: folder, blasThreads: blasThreads, groundingGuard: groundingGuard, constrained: constrained)
            } catch let error as ExplainError {
                report.yield(.failure(error))
                report.finish()
                return
            } catch {
                report.yield(.failure(.brokenModel(folder: folder, reason: "\(error)")))
                report.finish()
                return
            }
            report.yield(.success(Loaded(modelID: model.modelID, manifest: model.manifest, hasUserEmbeddings: model.generator.model.users != nil,
                                         constrainsSpans: model.isMarked && constrained)))
            report.finish()
            while true {
                jobs.signal.wait()
                let next = jobs.state.withLock { state -> Job?? in
                    if !state.jobs.isEmpty { return .some(state.jobs.removeFirst()) }
                    return state.closed ? .none : .some(nil)
                }
                guard let job = next else { return }  // closed and drained
                guard let job else { continue }
                job.continuation.resume(returning: model.explain(job.batch))
            }
        }
        var loaded: Result<Loaded, ExplainError> = .failure(.brokenModel(folder: folder, reason: "the inference thread ended"))
        for await value in stream { loaded = value }
        switch loaded {
        case .success(let model):
            modelID = model.modelID
            manifest = model.manifest
            hasUserEmbeddings = model.hasUserEmbeddings
            constrainsSpans = model.constrainsSpans
        case .failure(let error):
            throw error
        }
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
        await withCheckedContinuation { continuation in
            let accepted = jobs.state.withLock { state -> Bool in
                guard !state.closed else { return false }
                state.jobs.append(Job(batch: batch, continuation: continuation))
                return true
            }
            if accepted { jobs.signal.signal() } else {
                continuation.resume(returning: batch.map { _ in .failure(.generation("the inference thread is closed")) })
            }
        }
    }

    /// Finishes the queued batches, then ends the thread.
    public func close() async {
        jobs.state.withLock { $0.closed = true }
        jobs.signal.signal()
        await thread.join()
    }
}
