import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Every failure of the distillation module.
public enum DistillError: Error, CustomStringConvertible {
    case io(String)
    case invalidOptions(String)
    case corruptStore(path: String, line: Int, reason: String)
    /// Goldens of different teachers would end up in one training set.
    case mixedTeachers([String: Int])

    public var description: String {
        switch self {
        case .io(let text): return "I/O error: \(text)"
        case .invalidOptions(let text): return "invalid options: \(text)"
        case .corruptStore(let path, let line, let reason): return "\(path):\(line): corrupt result record: \(reason)"
        case .mixedTeachers(let counts):
            let list = counts.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
            return "the goldens come from more than one teacher: \(list); distill each teacher into its own --output folder"
        }
    }
}

/// One teacher answer for one sample, as stored. The store's key is
/// (sample id, decoding fingerprint); the teacher that wrote it is recorded with it.
public struct ResultRecord: Codable, Sendable, Equatable {
    public var sampleID: String
    public var userID: String
    public var itemID: String
    public var split: String
    public var teacherID: String
    /// The decoding parameters, as a canonical string (part of the key).
    public var decoding: String
    /// gRPC code name: "OK", or why the teacher (or the fleet) failed.
    public var status: String
    public var message: String
    public var explanation: String
    public var finishReason: String
    /// Why a golden was dropped by the post-filters (nil: kept).
    public var filtered: String?
    public var latencyMs: Int
    /// Shard attempts it took.
    public var attempts: Int
    /// Token usage the teacher reported (absent when it reports none).
    public var promptTokens: Int? = nil
    public var completionTokens: Int? = nil
    /// The teacher's own grounding marks of the explanation (absent: the coordinator marks it).
    public var marked: String? = nil

    enum CodingKeys: String, CodingKey {
        case sampleID = "sample_id", userID = "user_id", itemID = "item_id", split, teacherID = "teacher_id", decoding
        case status, message, explanation, finishReason = "finish_reason", filtered, latencyMs = "latency_ms", attempts
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", marked
    }

    public var key: String { ResultStore.key(sampleID: sampleID, decoding: decoding) }
    public var isGolden: Bool { status == "OK" && filtered == nil }
}

/// An append-only JSON-lines file of `ResultRecord`s that survives SIGKILL at any point:
/// every append is written whole and fsync'ed before it counts; a torn last line (a crash in
/// the middle of a write) is cut off when the store is opened again. A key holds one result:
/// appending a key that already has an OK result does nothing; a recorded failure may be
/// superseded by a later answer (`prism distill --retry-failed`).
public final class ResultStore {
    public let url: URL
    private var fd: Int32 = -1
    private(set) var records: [String: ResultRecord] = [:]
    /// Keys in file order.
    private(set) var order: [String] = []
    /// Bytes cut from a torn tail when opening.
    public private(set) var repairedBytes = 0

    static func key(sampleID: String, decoding: String) -> String { sampleID + "\u{1F}" + decoding }

    public init(url: URL) throws {
        self.url = url
        try load()
        fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw DistillError.io("cannot open \(url.path): \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { close(fd) } }

    public var count: Int { records.count }

    public func record(sampleID: String, decoding: String) -> ResultRecord? {
        records[ResultStore.key(sampleID: sampleID, decoding: decoding)]
    }

    public var allRecords: [ResultRecord] { order.compactMap { records[$0] } }

    /// Appends the records whose keys are new, durably (write + fsync); returns how many.
    @discardableResult
    public func append(_ new: [ResultRecord]) throws -> Int {
        var fresh: [ResultRecord] = []
        var seen = Set<String>()
        for record in new where canStore(record) && seen.insert(record.key).inserted { fresh.append(record) }
        guard !fresh.isEmpty else { return 0 }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = Data()
        for record in fresh {
            bytes.append(try encoder.encode(record))
            bytes.append(0x0A)
        }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DistillError.io("write \(url.path): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw DistillError.io("fsync \(url.path): \(String(cString: strerror(errno)))") }
        for record in fresh { keep(record) }
        return fresh.count
    }

    func canStore(_ record: ResultRecord) -> Bool {
        guard let existing = records[record.key] else { return true }
        return existing.status != "OK"
    }

    private func keep(_ record: ResultRecord) {
        if records.updateValue(record, forKey: record.key) == nil { order.append(record.key) }
    }

    private func load() throws {
        guard let data = FileManager.default.contents(atPath: url.path), !data.isEmpty else { return }
        let decoder = JSONDecoder()
        var lineStart = data.startIndex
        var goodEnd = data.startIndex
        var lineNumber = 0
        while lineStart < data.endIndex {
            guard let newline = data[lineStart...].firstIndex(of: 0x0A) else { break }  // unterminated: torn
            lineNumber += 1
            let line = data[lineStart..<newline]
            let next = data.index(after: newline)
            if !line.isEmpty {
                do {
                    let record = try decoder.decode(ResultRecord.self, from: line)
                    if canStore(record) { keep(record) }
                } catch {
                    // Only the last line can be torn by a crash; garbage before it is real corruption.
                    if next < data.endIndex {
                        throw DistillError.corruptStore(path: url.path, line: lineNumber, reason: "\(error)")
                    }
                    break
                }
            }
            goodEnd = next
            lineStart = next
        }
        if goodEnd < data.endIndex {
            repairedBytes = data.endIndex - goodEnd
            guard truncate(url.path, off_t(goodEnd - data.startIndex)) == 0 else {
                throw DistillError.io("cannot repair \(url.path): \(String(cString: strerror(errno)))")
            }
        }
    }
}
