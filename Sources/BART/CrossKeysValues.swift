import TensorKernels

/// Every decoder layer's cross-attention keys and values, `[itemCapacity][encoderCapacity][d_model]` per
/// layer (the projections of the encoder output, computed once per request and read at every step).
///
/// float32 for a float32 model (its results match the reference implementations); binary16 for an int8
/// model, whose step is memory-bound: BART-base reads 14.7 MB of float32 keys and values per generated
/// token and row, 7.4 MB in binary16, whose rounding (2⁻¹¹ relative) is far below the int8 layers' own.
enum CrossKeysValues {
    case float(keys: [FloatBuffer], values: [FloatBuffer])
    /// `scratch`: per thread, one item's projection in float32 (`encoderCapacity × d_model`) before it is stored.
    case half(keys: [HalfBuffer], values: [HalfBuffer], scratch: [FloatBuffer])

    init(layers: Int, count: Int, half: Bool, scratchCount: Int, threads: Int) {
        if half {
            self = .half(keys: (0..<layers).map { _ in HalfBuffer(count: count) },
                         values: (0..<layers).map { _ in HalfBuffer(count: count) },
                         scratch: (0..<max(1, threads)).map { _ in FloatBuffer(count: scratchCount) })
        } else {
            self = .float(keys: (0..<layers).map { _ in FloatBuffer(count: count) },
                          values: (0..<layers).map { _ in FloatBuffer(count: count) })
        }
    }

    var isHalf: Bool { if case .half = self { return true } else { return false } }

    /// Bytes held for keys and values.
    var bytes: Int {
        switch self {
        case .float(let keys, let values): return (keys + values).reduce(0) { $0 + $1.count * 4 }
        case .half(let keys, let values, _): return (keys + values).reduce(0) { $0 + $1.bytes }
        }
    }
}

extension BartModel {
    /// Projects the encoder output to every layer's cross-attention keys and values, each item's real
    /// positions only; its padded ones (masked) are zeros, not stale data.
    func projectCrossKeysValues(hidden: UnsafePointer<Float>, encoder: EncoderOutput, state s: DecoderState) {
        let d = config.dModel
        let length = encoder.length
        let capacity = s.encoderCapacity
        switch s.cross {
        case .float(let keys, let values):
            for (l, layer) in weights.decoderLayers.enumerated() {
                let pairs = [(layer.crossAttention.k, keys[l].pointer), (layer.crossAttention.v, values[l].pointer)]
                if capacity == length && encoder.lengths.allSatisfy({ $0 == length }) {
                    for (projection, target) in pairs {
                        projection.apply(hidden, rows: encoder.batch * length, into: target)
                    }
                    continue
                }
                for item in 0..<encoder.batch {
                    let own = encoder.lengths[item]
                    for (projection, target) in pairs {
                        let dst = target + item * capacity * d
                        projection.apply(hidden + item * length * d, rows: own, into: dst)
                        (dst + own * d).update(repeating: 0, count: (length - own) * d)
                    }
                }
            }
        case .half(let keys, let values, let scratch):
            // Projected item by item through a float32 scratch; with as many items as threads, each thread
            // takes whole items with one-thread GEMMs (as the encoder does, `encodeConcurrently`).
            let workers = min(scratch.count, s.threads, encoder.batch)
            let address = UInt(bitPattern: hidden)
            let project = { (item: Int, scratch: FloatBuffer) in
                let hidden = UnsafePointer<Float>(bitPattern: address)!
                let own = encoder.lengths[item]
                for (l, layer) in self.weights.decoderLayers.enumerated() {
                    for (projection, target) in [(layer.crossAttention.k, keys[l].pointer), (layer.crossAttention.v, values[l].pointer)] {
                        let dst = target + item * capacity * d
                        projection.apply(hidden + item * length * d, rows: own, into: scratch.pointer)
                        Half.store(scratch.pointer, count: own * d, into: dst)
                        (dst + own * d).update(repeating: 0, count: (length - own) * d)
                    }
                }
            }
            let concurrent = workers >= 2 ? encoder.batch / workers * workers : 0
            if concurrent > 0 {
                Parallel.withSingleThreadedBLAS {
                    Parallel.forEachPart(count: workers, parts: workers) { worker, _ in
                        for item in stride(from: worker, to: concurrent, by: workers) { project(item, scratch[worker]) }
                    }
                }
            }
            for item in concurrent..<encoder.batch { project(item, scratch[0]) }
        }
    }
}
