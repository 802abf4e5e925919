import Foundation

extension GenerationDefaults {
    /// Applies the generation fields of a `config.json` or `generation_config.json`.
    public mutating func apply(_ reader: JSONFields) throws {
        if let v = try reader.int("num_beams") { numBeams = v }
        if let v = try reader.int("max_length") { maxLength = v }
        if let v = try reader.int("min_length") { minLength = v }
        if let v = try reader.int("no_repeat_ngram_size") { noRepeatNgramSize = v }
        if let v = try reader.double("length_penalty") { lengthPenalty = v }
        if let raw = reader.json["early_stopping"], !(raw is NSNull) {
            if let s = raw as? String, !(raw is NSNumber) {
                guard s == "never" else {
                    throw reader.errors.badConfig(reader.path, "early_stopping \"\(s)\" is not true, false or \"never\"")
                }
                earlyStopping = .never
            } else if let b = try reader.bool("early_stopping") {
                earlyStopping = b ? .stopEarly : .heuristic
            }
        }
        if numBeams < 1 { throw reader.errors.badConfig(reader.path, "num_beams must be ≥ 1") }
        if maxLength < 1 { throw reader.errors.badConfig(reader.path, "max_length must be ≥ 1") }
    }
}

/// How a model module reports config-file problems (each module has its own error enum).
public struct ConfigErrors: Sendable {
    public let missingFile: @Sendable (_ path: String) -> any Error
    public let badConfig: @Sendable (_ path: String, _ detail: String) -> any Error

    public init(missingFile: @escaping @Sendable (String) -> any Error,
                badConfig: @escaping @Sendable (String, String) -> any Error) {
        self.missingFile = missingFile
        self.badConfig = badConfig
    }
}

/// Reads a JSON object from a file, with clear errors.
public func readConfigObject(_ path: String, errors: ConfigErrors) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw errors.missingFile(path)
    }
    let object: Any
    do {
        object = try JSONSerialization.jsonObject(with: data)
    } catch {
        throw errors.badConfig(path, "not valid JSON")
    }
    guard let dict = object as? [String: Any] else {
        throw errors.badConfig(path, "not a JSON object")
    }
    return dict
}

/// Typed access to the fields of a JSON object; `null` counts as absent, a wrong type is an error.
public struct JSONFields {
    public let json: [String: Any]
    public let path: String
    public let errors: ConfigErrors

    public init(_ json: [String: Any], path: String, errors: ConfigErrors) {
        self.json = json
        self.path = path
        self.errors = errors
    }

    private func value(_ key: String) -> Any? {
        guard let v = json[key], !(v is NSNull) else { return nil }
        return v
    }

    private func wrongType(_ key: String, _ expected: String) -> any Error {
        errors.badConfig(path, "\(key) is not \(expected)")
    }

    /// JSON true/false (Foundation gives NSNumbers whose type code is "c"; plain `is Bool` also
    /// matches the numbers 0 and 1 on Linux).
    public static func isBool(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    public func int(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        if Self.isBool(v) { throw wrongType(key, "an integer") }
        if let i = v as? Int { return i }
        if let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded(), abs(n.doubleValue) < 9e15 {
            return n.intValue
        }
        throw wrongType(key, "an integer")
    }

    public func requiredInt(_ key: String) throws -> Int {
        guard let v = try int(key) else { throw errors.badConfig(path, "missing \(key)") }
        return v
    }

    /// An integer, or the first element of an integer list (HF allows lists for eos ids).
    public func firstInt(_ key: String) throws -> Int? {
        if let list = value(key) as? [Any] {
            guard let first = list.first else { return nil }
            return try JSONFields([key: first], path: path, errors: errors).int(key)
        }
        return try int(key)
    }

    public func double(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        if Self.isBool(v) { throw wrongType(key, "a number") }
        if let d = v as? Double { return d }
        if let n = v as? NSNumber { return n.doubleValue }
        throw wrongType(key, "a number")
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        if Self.isBool(v), let b = v as? Bool { return b }
        throw wrongType(key, "a boolean")
    }

    public func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        if let s = v as? String { return s }
        throw wrongType(key, "a string")
    }
}
