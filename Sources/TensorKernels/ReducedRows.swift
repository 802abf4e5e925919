/// A float matrix stored below float32 (`Int8Rows`, `BF16Rows`), made from float rows delivered a block at a
/// time so that the float32 matrix never exists whole.
public protocol RowMatrix: AnyObject {
    init(rows: Int, cols: Int, chunkRows: Int, fill: (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void) rethrows
}

extension RowMatrix {
    /// Rounds (or quantizes) a whole float matrix.
    public init(_ matrix: UnsafePointer<Float>, rows: Int, cols: Int) {
        self.init(rows: rows, cols: cols, chunkRows: 1024) { range, buffer in
            buffer.update(from: matrix + range.lowerBound * cols, count: range.count * cols)
        }
    }
}

/// A matrix held below float32: the weight of a bf16 or int8 linear layer, or a token table (a row per
/// token) that a tied model shares with its output projection.
public enum ReducedRows: Sendable {
    case int8(Int8Rows)
    case bf16(BF16Rows)

    /// Rounds a float matrix to `precision`'s layer form; nil for `.fp32` (nothing to reduce).
    public init?(_ matrix: UnsafePointer<Float>, rows: Int, cols: Int, precision: Precision) {
        self.init(rows: rows, cols: cols, precision: precision) { range, buffer in
            buffer.update(from: matrix + range.lowerBound * cols, count: range.count * cols)
        }
    }

    /// Rounds a matrix delivered a block of rows at a time (`Int8Rows.init(rows:cols:chunkRows:fill:)`);
    /// nil for `.fp32`.
    public init?(rows: Int, cols: Int, precision: Precision,
                 fill: (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void) rethrows {
        switch precision.layer(inEncoder: true) {
        case .int8: self = .int8(try Int8Rows(rows: rows, cols: cols, fill: fill))
        case .bf16: self = .bf16(try BF16Rows(rows: rows, cols: cols, fill: fill))
        case .fp32, .int8Encoder, .int8BF16: return nil
        }
    }

    /// Delivers a `[rows × cols]` float matrix `chunkRows` rows at a time: `fill(range, buffer)` writes rows
    /// `range` into a scratch block, which `store(range, buffer)` then rounds into its own form. The float32
    /// matrix never exists whole.
    static func forEachBlock(rows: Int, cols: Int, chunkRows: Int,
                             fill: (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void,
                             store: (Range<Int>, UnsafePointer<Float>) -> Void) rethrows {
        let chunk = max(1, min(chunkRows, rows))
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, chunk * cols))
        defer { buffer.deallocate() }
        var start = 0
        while start < rows {
            let range = start..<min(rows, start + chunk)
            try fill(range, buffer)
            store(range, buffer)
            start = range.upperBound
        }
    }

    public var rows: Int {
        switch self {
        case .int8(let m): return m.rows
        case .bf16(let m): return m.rows
        }
    }

    public var cols: Int {
        switch self {
        case .int8(let m): return m.cols
        case .bf16(let m): return m.cols
        }
    }

    public var precision: Precision {
        switch self {
        case .int8: return .int8
        case .bf16: return .bf16
        }
    }

    public var bytes: Int {
        switch self {
        case .int8(let m): return m.bytes
        case .bf16(let m): return m.bytes
        }
    }

    /// `out[c] = w[row, c] · factor`: a token's embedding.
    @inline(__always)
    public func row(_ row: Int, factor: Float = 1, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .int8(let m): m.dequantizeRow(row, factor: factor, into: out)
        case .bf16(let m): m.widenRow(row, factor: factor, into: out)
        }
    }

    /// The whole matrix in float32 (tests and references).
    public var floats: [Float] {
        switch self {
        case .int8(let m): return m.dequantized
        case .bf16(let m): return m.widened
        }
    }

    /// Whether both hold the same precision, shape and values (a checkpoint's stored copy of a tied table).
    public func hasSameValues(as other: ReducedRows) -> Bool {
        switch (self, other) {
        case (.int8(let a), .int8(let b)): return a.hasSameValues(as: b)
        case (.bf16(let a), .bf16(let b)): return a.hasSameValues(as: b)
        default: return false
        }
    }

    /// Whether both are the same object (one table shared by the embeddings and the output projection).
    public func isSameObject(as other: ReducedRows) -> Bool {
        switch (self, other) {
        case (.int8(let a), .int8(let b)): return a === b
        case (.bf16(let a), .bf16(let b)): return a === b
        default: return false
        }
    }
}
