import Foundation

/// A read-only view of one value inside a parsed `tokenizer.json`, remembering its path so that
/// every type error can say exactly where it is.
struct JSONNode {
    /// Where a node sits in its parent; the path string is only built when an error needs it.
    private indirect enum Location {
        case root
        case member(JSONNode.Location, String)
        case element(JSONNode.Location, Int)
    }

    let value: Any?
    private let location: Location

    private init(value: Any?, location: Location) {
        self.value = value
        self.location = location
    }

    /// The node's path, like `model.merges[3]` (empty for the root).
    var path: String { Self.describe(location) }

    private static func describe(_ location: Location) -> String {
        switch location {
        case .root: return ""
        case let .member(parent, key):
            let prefix = describe(parent)
            return prefix.isEmpty ? key : "\(prefix).\(key)"
        case let .element(parent, index): return "\(describe(parent))[\(index)]"
        }
    }

    /// Parses `data` (a JSON object at the top level) with `JSONParser`, which keeps every string's
    /// scalars exactly and every object member, however canonically equivalent two keys are.
    static func parse(_ data: Data) throws(TokenizerError) -> JSONNode {
        let object = try JSONParser.parse(data)
        guard object is JSONObject else { throw .invalidJSON("the top level is not an object") }
        return JSONNode(value: object, location: .root)
    }

    /// `true` when the value is absent or JSON `null`.
    var isNull: Bool { value == nil || value is NSNull }

    /// The member `key` of an object (absent members read as null).
    subscript(key: String) -> JSONNode {
        JSONNode(value: (value as? JSONObject)?[key], location: .member(location, key))
    }

    private func invalid(_ expected: String) -> TokenizerError {
        .invalidField(path: path, reason: "expected \(expected)")
    }

    func string() throws(TokenizerError) -> String {
        if isNull { throw .missingField(path: path) }
        guard let string = value as? String else { throw invalid("a string") }
        return string
    }

    func optionalString() throws(TokenizerError) -> String? {
        isNull ? nil : try string()
    }

    func bool(default fallback: Bool) throws(TokenizerError) -> Bool {
        if isNull { return fallback }
        guard let bool = value as? Bool else { throw invalid("a boolean") }
        return bool
    }

    func int() throws(TokenizerError) -> Int {
        if isNull { throw .missingField(path: path) }
        if let int = value as? Int { return int }
        guard let double = numeric, double == double.rounded(), abs(double) < 9e15 else {
            throw invalid("an integer")
        }
        return Int(double)
    }

    private var numeric: Double? {
        if let double = value as? Double { return double }
        if let int = value as? Int { return Double(int) }
        return (value as? NSNumber)?.doubleValue
    }

    func optionalInt() throws(TokenizerError) -> Int? {
        isNull ? nil : try int()
    }

    func double() throws(TokenizerError) -> Double {
        if isNull { throw .missingField(path: path) }
        guard let double = numeric else { throw invalid("a number") }
        return double
    }

    func array() throws(TokenizerError) -> [JSONNode] {
        if isNull { throw .missingField(path: path) }
        guard let array = value as? [Any] else { throw invalid("an array") }
        return array.enumerated().map { JSONNode(value: $0.element, location: .element(location, $0.offset)) }
    }

    func optionalArray() throws(TokenizerError) -> [JSONNode]? {
        isNull ? nil : try array()
    }

    /// The members of an object in file order (a repeated key once, with its last value).
    func members() throws(TokenizerError) -> [(key: String, node: JSONNode)] {
        if isNull { throw .missingField(path: path) }
        guard let object = value as? JSONObject else { throw invalid("an object") }
        return object.uniqueMembers.map { (key: $0.key, node: JSONNode(value: $0.value, location: .member(location, $0.key))) }
    }

    /// The `type` member of a component object.
    func componentType() throws(TokenizerError) -> String {
        try self["type"].string()
    }
}
