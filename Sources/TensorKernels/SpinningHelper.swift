import CPrefetch
import Dispatch
import Foundation
import Synchronization

/// One helper thread for two-part fork–join that stays awake for a moment after each job.
///
/// A decoder step is ~50 products of 40–100 µs each; handing half of each to a GCD worker
/// (`DispatchQueue.concurrentPerform`) pays a futex wake-up per call, which on the 2-core host took more
/// than the second core saved: BART-base int8 decoder layers 7.1–7.4 ms per token on two threads against
/// 5.6–5.9 ms on one. This helper spins (with PAUSE) for `spinWindow` after its last job, so back-to-back
/// products find it running; only after a quiet spell does it sleep on a semaphore, and the next caller
/// wakes it. One caller at a time holds it; a second caller meanwhile (another model's inference thread,
/// or a nested call) falls back to `concurrentPerform`.
@usableFromInline
final class SpinningHelper: @unchecked Sendable {
    @usableFromInline static let shared = SpinningHelper()

    /// How long the helper spins after a job before it sleeps.
    static let spinWindow: UInt64 = 200_000  // ns

    private let held = Atomic<Bool>(false)
    private let posted = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let sleeping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    /// The posted job; written by the holder before `posted` is released, read by the helper after it
    /// acquires `posted`, cleared by the holder after `finished` is acquired.
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    private var generation = 0

    private init() {
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = "prism-kernel-helper"
        thread.start()
    }

    /// Runs `body(0)` on the calling thread and `body(1)` on the helper, returning when both are done;
    /// false (nothing run) when another caller holds the helper.
    @usableFromInline func runTwo(_ body: (Int) -> Void) -> Bool {
        guard held.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { held.store(false, ordering: .releasing) }
        generation += 1
        let mine = generation
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            posted.store(mine, ordering: .sequentiallyConsistent)
            if sleeping.load(ordering: .sequentiallyConsistent) { wake.signal() }
            escapable(0)
            while finished.load(ordering: .acquiring) != mine { prism_cpu_relax() }
            job = nil
        }
        return true
    }

    private func serve() {
        var seen = 0
        while true {
            var idleSince = DispatchTime.now().uptimeNanoseconds
            var spins = 0
            while posted.load(ordering: .acquiring) == seen {
                prism_cpu_relax()
                spins += 1
                if spins & 63 != 0 { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if now - idleSince < Self.spinWindow { continue }
                // Announce the sleep, then look once more: a caller that posts after this load sees
                // `sleeping` and signals (both sequentially consistent), so no wake-up is lost; an extra
                // signal only makes a later wait return at once, and the loop looks again.
                sleeping.store(true, ordering: .sequentiallyConsistent)
                if posted.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                sleeping.store(false, ordering: .sequentiallyConsistent)
                idleSince = DispatchTime.now().uptimeNanoseconds
            }
            seen = posted.load(ordering: .acquiring)
            job?(1)
            finished.store(seen, ordering: .releasing)
        }
    }
}
