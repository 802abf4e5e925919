#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorKernels

/// Temperature, top-k and top-p warping (HF's warpers, in HF's order) and a categorical draw.
/// Owns its scratch so drawing allocates nothing.
final class Sampler {
    let vocab: Int
    let temperature: Float
    let topK: Int
    let topP: Float
    private let order: UnsafeMutablePointer<Int>
    private let probabilities: UnsafeMutablePointer<Float>

    init(vocab: Int, config: GenerationConfig) {
        self.vocab = vocab
        temperature = config.temperature
        topK = config.topK
        topP = config.topP
        order = .allocate(capacity: vocab)
        probabilities = .allocate(capacity: vocab)
    }

    deinit {
        order.deallocate()
        probabilities.deallocate()
    }

    /// Warps `scores` in place (temperature, then top-k, then top-p; removed tokens get -inf).
    func warp(_ scores: UnsafeMutablePointer<Float>) {
        if temperature != 1 {
            for i in 0..<vocab { scores[i] /= temperature }
        }
        if topK > 0 && topK < vocab {
            // Remove every score below the k-th largest (ties with it stay, as HF).
            let threshold = kthLargest(scores, k: topK)
            for i in 0..<vocab where scores[i] < threshold { scores[i] = -.infinity }
        }
        if topP < 1 {
            // Ascending order; drop tokens whose cumulative probability (from the smallest) is ≤ 1 − p,
            // always keeping the largest one.
            for i in 0..<vocab { order[i] = i }
            heapSortAscending(by: scores)
            for i in 0..<vocab { probabilities[i] = scores[order[i]] }
            Softmax.apply(probabilities, count: vocab)
            var cumulative: Float = 0
            for i in 0..<(vocab - 1) {
                cumulative += probabilities[i]
                if cumulative <= 1 - topP { scores[order[i]] = -.infinity } else { break }
            }
        }
    }

    /// Draws a token from `softmax(scores)`.
    func draw(_ scores: UnsafePointer<Float>, using rng: inout SeededGenerator) -> Int {
        for i in 0..<vocab { probabilities[i] = scores[i] }
        Softmax.apply(probabilities, count: vocab)
        let u = Float(rng.nextUnit())
        var cumulative: Float = 0
        var last = 0
        for i in 0..<vocab where probabilities[i] > 0 {
            cumulative += probabilities[i]
            last = i
            if u < cumulative { return i }
        }
        return last
    }

    private func kthLargest(_ scores: UnsafePointer<Float>, k: Int) -> Float {
        for i in 0..<vocab { probabilities[i] = scores[i] }
        // Quickselect for the element of descending rank k-1.
        var lo = 0
        var hi = vocab - 1
        let target = k - 1
        while lo < hi {
            let pivot = probabilities[(lo + hi) / 2]
            var i = lo
            var j = hi
            while i <= j {
                while probabilities[i] > pivot { i += 1 }
                while probabilities[j] < pivot { j -= 1 }
                if i <= j {
                    let t = probabilities[i]
                    probabilities[i] = probabilities[j]
                    probabilities[j] = t
                    i += 1
                    j -= 1
                }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { break }
        }
        return probabilities[target]
    }

    /// Sorts `order[0..<vocab]` by `scores[order[i]]` ascending (heap sort: in place, no allocation).
    private func heapSortAscending(by scores: UnsafePointer<Float>) {
        func less(_ a: Int, _ b: Int) -> Bool {
            let x = scores[order[a]]
            let y = scores[order[b]]
            return x < y || (x == y && order[a] < order[b])
        }
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while 2 * root + 1 < end {
                var child = 2 * root + 1
                if child + 1 < end && less(child, child + 1) { child += 1 }
                if less(root, child) {
                    order.swapAt(root, child)
                    root = child
                } else {
                    return
                }
            }
        }
        var start = vocab / 2 - 1
        while start >= 0 {
            siftDown(start, vocab)
            start -= 1
        }
        var end = vocab - 1
        while end > 0 {
            order.swapAt(0, end)
            siftDown(0, end)
            end -= 1
        }
    }
}

extension UnsafeMutablePointer {
    @inline(__always)
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
