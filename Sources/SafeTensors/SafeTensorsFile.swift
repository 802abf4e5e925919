import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one tensor lives in a safetensors file.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section.
    public let byteRange: Range<Int>

    /// Number of elements (product of the shape; 1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
}

/// A memory-mapped safetensors file.
///
/// Layout: 8-byte little-endian header length `N`, `N` bytes of JSON header
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`), then the data.
/// The header is validated completely on open (dtypes, shapes against byte sizes, offsets within the file),
/// so a truncated or corrupt file fails at `init`, not later. Tensors are converted to contiguous `[Float]`
/// on request. Immutable after `init`; the mapping is released on deinit.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The file's path.
    public let path: String
    /// Every tensor in the file, by name.
    public let tensors: [String: TensorInfo]
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]

    private let base: UnsafeRawPointer
    private let mappedLength: Int
    private let dataStart: Int

    /// Maps `path` and parses its header.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw SafeTensorsError.cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw SafeTensorsError.cannotOpen(path: path, errno: errno) }
        let size = Int(st.st_size)
        if size < 8 {
            throw SafeTensorsError.truncated(path: path, detail: "file has \(size) bytes, fewer than the 8-byte header length")
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw SafeTensorsError.cannotOpen(path: path, errno: errno)
        }
        let raw = UnsafeRawPointer(mapped)
        var parsed: (tensors: [String: TensorInfo], metadata: [String: String], dataStart: Int)
        do {
            parsed = try Self.parseHeader(raw: raw, size: size, path: path)
        } catch {
            munmap(mapped, size)
            throw error
        }
        self.base = raw
        self.mappedLength = size
        self.tensors = parsed.tensors
        self.metadata = parsed.metadata
        self.dataStart = parsed.dataStart
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
    }

    /// Names of all tensors, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// True when the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// The tensor `name` converted to `Float`, row-major. If `shape` is given, the stored shape must equal it.
    public func floats(_ name: String, shape expected: [Int]? = nil) throws -> [Float] {
        let info = try floatTensor(name, shape: expected)
        let n = info.count
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            convert(info, elements: 0..<n, into: out.baseAddress!)
            initialized = n
            releasePages(bytes: info.byteRange)
        }
    }

    /// Rows `rows` of the tensor `name` (along its first dimension) converted to `Float` into `out`, so a
    /// large tensor can be consumed piecewise without a float32 copy of the whole. Checked against `shape`.
    public func floats(_ name: String, shape expected: [Int], rows: Range<Int>, into out: UnsafeMutablePointer<Float>) throws {
        let info = try floatTensor(name, shape: expected)
        let first = info.shape.first ?? 1
        guard rows.lowerBound >= 0, rows.upperBound <= first else {
            throw SafeTensorsError.shapeMismatch(name: name, expected: [rows.upperBound], actual: info.shape)
        }
        let rowCount = first == 0 ? 0 : info.count / first
        let elements = rows.lowerBound * rowCount..<rows.upperBound * rowCount
        convert(info, elements: elements, into: out)
        let width = info.byteRange.count / max(1, info.count)
        let start = info.byteRange.lowerBound + elements.lowerBound * width
        releasePages(bytes: start..<start + elements.count * width)
    }

    private func floatTensor(_ name: String, shape expected: [Int]?) throws -> TensorInfo {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(name: name) }
        if let expected, expected != info.shape {
            throw SafeTensorsError.shapeMismatch(name: name, expected: expected, actual: info.shape)
        }
        guard !info.dtype.isInteger else {
            throw SafeTensorsError.unsupportedDType(name: name, dtype: "\(info.dtype.rawValue) (a float type expected)")
        }
        return info
    }

    /// Elements `elements` of a float tensor, widened to `Float`, into `out`.
    private func convert(_ info: TensorInfo, elements: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let src = base + dataStart + info.byteRange.lowerBound
        let n = elements.count, first = elements.lowerBound
        switch info.dtype {
        case .f32:
            // Copy bytes; the source may be unaligned for Float.
            memcpy(out, src + 4 * first, n * 4)
        case .f16:
            for i in 0..<n {
                out[i] = halfBitsToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * (first + i), as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<n {
                out[i] = bf16BitsToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * (first + i), as: UInt16.self)))
            }
        case .i32, .i64:
            break  // refused by floatTensor
        }
    }

    /// The integer tensor `name` (I32 or I64) as `Int`s, row-major, checked against `shape`.
    public func ints(_ name: String, shape expected: [Int]? = nil) throws -> [Int] {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(name: name) }
        if let expected, expected != info.shape {
            throw SafeTensorsError.shapeMismatch(name: name, expected: expected, actual: info.shape)
        }
        let src = base + dataStart + info.byteRange.lowerBound
        switch info.dtype {
        case .i64:
            return (0..<info.count).map { Int(Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
        case .i32:
            return (0..<info.count).map { Int(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        default:
            throw SafeTensorsError.unsupportedDType(name: name, dtype: "\(info.dtype.rawValue) (I32 or I64 expected)")
        }
    }

    /// Drops the mapped file pages of a tensor (or part of one) that was just copied out, so a large checkpoint does not
    /// count twice in the resident set while it loads (the file's pages, then the copies). Reading the
    /// tensor again maps its pages back in from the file.
    private func releasePages(bytes: Range<Int>) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = dataStart + bytes.lowerBound, end = dataStart + bytes.upperBound
        let first = (start + page - 1) / page * page, last = end / page * page
        guard last > first else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED)
    }

    /// The tensor `name` as raw bfloat16 bits (it must be stored as BF16), row-major, checked against `shape`.
    public func bf16Bits(_ name: String, shape expected: [Int]? = nil) throws -> [UInt16] {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(name: name) }
        if let expected, expected != info.shape {
            throw SafeTensorsError.shapeMismatch(name: name, expected: expected, actual: info.shape)
        }
        guard info.dtype == .bf16 else { throw SafeTensorsError.unsupportedDType(name: name, dtype: "\(info.dtype.rawValue) (BF16 expected)") }
        let n = info.count
        let src = base + dataStart + info.byteRange.lowerBound
        return [UInt16](unsafeUninitializedCapacity: n) { out, initialized in
            for i in 0..<n { out[i] = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            initialized = n
            releasePages(bytes: info.byteRange)
        }
    }

    // MARK: Header

    private static func parseHeader(
        raw: UnsafeRawPointer, size: Int, path: String
    ) throws -> (tensors: [String: TensorInfo], metadata: [String: String], dataStart: Int) {
        let headerLength = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(size - 8) else {
            throw SafeTensorsError.truncated(
                path: path, detail: "header claims \(headerLength) bytes but only \(size - 8) follow")
        }
        let n = Int(headerLength)
        let headerData = Data(bytes: raw + 8, count: n)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw SafeTensorsError.badHeader(path: path, detail: "header is not valid JSON")
        }
        guard let dict = object as? [String: Any] else {
            throw SafeTensorsError.badHeader(path: path, detail: "header is not a JSON object")
        }
        let dataStart = 8 + n
        let dataLength = size - dataStart
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let meta = value as? [String: Any] else {
                    throw SafeTensorsError.badHeader(path: path, detail: "__metadata__ is not an object")
                }
                for (k, v) in meta { metadata[k] = (v as? String) ?? "\(v)" }
                continue
            }
            let info = try parseEntry(name: name, value: value, path: path)
            if info.byteRange.upperBound > dataLength {
                throw SafeTensorsError.truncated(
                    path: path,
                    detail: "tensor \(name) ends at data byte \(info.byteRange.upperBound) but the data section has \(dataLength) bytes")
            }
            tensors[name] = info
        }
        return (tensors, metadata, dataStart)
    }

    private static func parseEntry(name: String, value: Any, path: String) throws -> TensorInfo {
        guard let entry = value as? [String: Any] else {
            throw SafeTensorsError.badHeader(path: path, detail: "entry \(name) is not an object")
        }
        guard let dtypeName = entry["dtype"] as? String else {
            throw SafeTensorsError.badHeader(path: path, detail: "entry \(name) has no dtype")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw SafeTensorsError.unsupportedDType(name: name, dtype: dtypeName)
        }
        guard let shape = intArray(entry["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
            throw SafeTensorsError.badHeader(path: path, detail: "entry \(name) has no valid shape")
        }
        guard let offsets = intArray(entry["data_offsets"]), offsets.count == 2,
              offsets[0] >= 0, offsets[1] >= offsets[0]
        else {
            throw SafeTensorsError.badHeader(path: path, detail: "entry \(name) has no valid data_offsets")
        }
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { throw SafeTensorsError.badHeader(path: path, detail: "entry \(name) shape overflows") }
            count = product
        }
        let bytes = offsets[1] - offsets[0]
        if bytes != count * dtype.byteSize {
            throw SafeTensorsError.badHeader(
                path: path,
                detail: "entry \(name) has \(bytes) bytes for shape \(shape) of \(dtypeName)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1])
    }

    private static func intArray(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        out.reserveCapacity(array.count)
        for element in array {
            if let n = element as? NSNumber, String(cString: n.objCType) == "c" { return nil }
            if let i = element as? Int {
                out.append(i)
            } else if let n = element as? NSNumber, n.doubleValue == n.doubleValue.rounded(),
                      abs(n.doubleValue) < 9e15 {
                out.append(n.intValue)
            } else {
                return nil
            }
        }
        return out
    }
}
