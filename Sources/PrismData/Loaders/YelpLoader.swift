import Foundation

/// Loads the Yelp Open Dataset (JSON lines, one object per line), streaming each file:
///
/// - reviews (`yelp_academic_dataset_review.json` or `review.json`): `user_id`, `business_id`,
///   `stars`, `date` ("YYYY-MM-DD HH:MM:SS") → interactions. Required.
/// - businesses (`yelp_academic_dataset_business.json` or `business.json`): `business_id`, `name`,
///   `categories` (comma-separated string), `city`, `state`, `stars`, `review_count` → catalog. Optional.
/// - users (`yelp_academic_dataset_user.json` or `user.json`): `user_id`, `review_count`,
///   `yelping_since`, `average_stars`, `fans` → user attributes. Optional.
///
/// Only the needed keys are decoded; review text is skipped.
public struct YelpLoader: Sendable {
    public var options: LoadOptions

    public init(options: LoadOptions = LoadOptions()) { self.options = options }

    struct Review: Decodable {
        let user_id: String
        let business_id: String
        let stars: Double?
        let date: String
    }

    struct Business: Decodable {
        let business_id: String
        let name: String?
        let categories: String?
        let city: String?
        let state: String?
        let stars: Double?
        let review_count: Int?
    }

    struct User: Decodable {
        let user_id: String
        let name: String?
        let review_count: Int?
        let yelping_since: String?
        let average_stars: Double?
        let fans: Int?
    }

    static func names(_ kind: String) -> [String] {
        ["yelp_academic_dataset_\(kind).json", "\(kind).json", "\(kind).jsonl"]
    }

    public func load(directory: URL) throws -> Dataset {
        var report = LoadReport()
        let decoder = JSONDecoder()
        var interactions: [Interaction] = []
        try forEachObject(try requireFile(Self.names("review"), in: directory), Review.self, decoder, &report) { r in
            guard let t = parseDateTime(r.date) else { throw LineError("date is not a date: '\(r.date)'") }
            guard !r.user_id.isEmpty, !r.business_id.isEmpty else { throw LineError("empty user_id or business_id") }
            interactions.append(Interaction(userID: r.user_id, itemID: r.business_id, timestamp: t, rating: r.stars))
        }

        var catalog = ItemCatalog()
        if let url = firstExisting(Self.names("business"), in: directory) {
            try forEachObject(url, Business.self, decoder, &report) { b in
                var attributes: [String: String] = [:]
                if let v = b.city, !v.isEmpty { attributes["city"] = v }
                if let v = b.state, !v.isEmpty { attributes["state"] = v }
                if let v = b.stars { attributes["stars"] = formatNumber(v) }
                if let v = b.review_count { attributes["review_count"] = String(v) }
                let categories = (b.categories ?? "").split(separator: ",")
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                catalog.insert(CatalogItem(id: b.business_id, title: b.name ?? b.business_id,
                                           genres: categories, attributes: attributes))
            }
        }

        var users: [String: UserAttributes] = [:]
        if let url = firstExisting(Self.names("user"), in: directory) {
            try forEachObject(url, User.self, decoder, &report) { u in
                var a: UserAttributes = [:]
                if let v = u.name { a["name"] = v }
                if let v = u.review_count { a["review_count"] = String(v) }
                if let v = u.yelping_since { a["yelping_since"] = v }
                if let v = u.average_stars { a["average_stars"] = formatNumber(v) }
                if let v = u.fans { a["fans"] = String(v) }
                users[u.user_id] = a
            }
        }
        return Dataset(name: options.name ?? "yelp", interactions: interactions, catalog: catalog,
                       users: users, report: report)
    }

    private func forEachObject<T: Decodable>(
        _ url: URL, _ type: T.Type, _ decoder: JSONDecoder, _ report: inout LoadReport, _ body: (T) throws -> Void
    ) throws {
        try LineDriver(url: url, lenient: options.lenient).run(report: &report) { line, _ in
            let value: T
            do {
                value = try decoder.decode(T.self, from: Data(line))
            } catch {
                throw LineError("invalid JSON object: \(Self.describe(error))")
            }
            try body(value)
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted: return "not valid JSON"
        default: return "\(error)"
        }
    }
}

/// Formats a number without a trailing ".0" for whole values ("4", "4.5").
func formatNumber(_ v: Double) -> String {
    if v.rounded() == v, v.magnitude < 1e15 { return String(Int64(v)) }
    return String(v)
}
