/// One user–item event: a rating, a review, a view.
///
/// External ids stay strings exactly as they appear in the source files.
public struct Interaction: Sendable, Codable, Hashable {
    /// The user's external id.
    public var userID: String
    /// The item's external id.
    public var itemID: String
    /// Unix time in seconds.
    public var timestamp: Int64
    /// The explicit rating, when the source has one.
    public var rating: Double?

    public init(userID: String, itemID: String, timestamp: Int64, rating: Double? = nil) {
        self.userID = userID
        self.itemID = itemID
        self.timestamp = timestamp
        self.rating = rating
    }
}

/// Orders external ids "naturally": two all-digit ids compare as numbers ("9" < "10"),
/// anything else compares by its UTF-8 bytes. A total, locale-free order, so sorting by it is deterministic.
public func naturalIDLess(_ lhs: String, _ rhs: String) -> Bool {
    let lu = lhs.utf8, ru = rhs.utf8
    let lDigits = lu.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    let rDigits = ru.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    if lDigits && rDigits && !lu.isEmpty && !ru.isEmpty {
        // Drop leading zeros, then a shorter number is smaller.
        let lTrim = lu.drop { $0 == 0x30 }, rTrim = ru.drop { $0 == 0x30 }
        if lTrim.count != rTrim.count { return lTrim.count < rTrim.count }
        if !lTrim.elementsEqual(rTrim) { return lTrim.lexicographicallyPrecedes(rTrim) }
        if lu.count != ru.count { return lu.count < ru.count }
        return false
    }
    if lDigits != rDigits, !lu.isEmpty, !ru.isEmpty { return lDigits }
    return lu.lexicographicallyPrecedes(ru)
}
