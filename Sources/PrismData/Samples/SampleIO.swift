import Foundation

/// Reading and writing samples and catalogs as JSON lines, one object per line, readable from
/// Python with `json.loads` per line.
public enum SampleIO {
    /// The JSON text of one sample, keys in the order
    /// `sample_id, user_id, item_id, history, split, timestamp[, rating]`.
    public static func jsonLine(_ s: Sample) -> String {
        String(decoding: jsonBytes(s), as: UTF8.self)
    }

    static func jsonBytes(_ s: Sample) -> [UInt8] {
        var o = JSONObjectBuilder()
        o.add("sample_id", s.sampleID)
        o.add("user_id", s.userID)
        o.add("item_id", s.itemID)
        o.add("history", s.history)
        o.add("split", s.split.rawValue)
        o.add("timestamp", s.timestamp)
        if let r = s.rating { o.add("rating", r) }
        return o.finish()
    }

    /// The JSON text of one catalog item, keys in the order
    /// `id, title, year, genres, directors, writers, actors, plot, attributes`
    /// (`year` and `plot` omitted when unknown; `attributes` keys sorted).
    public static func jsonLine(_ item: CatalogItem) -> String {
        String(decoding: jsonBytes(item), as: UTF8.self)
    }

    static func jsonBytes(_ item: CatalogItem) -> [UInt8] {
        var o = JSONObjectBuilder()
        o.add("id", item.id)
        o.add("title", item.title)
        if let y = item.year { o.add("year", y) }
        o.add("genres", item.genres)
        o.add("directors", item.directors)
        o.add("writers", item.writers)
        o.add("actors", item.actors)
        if let p = item.plot { o.add("plot", p) }
        o.add("attributes", item.attributes)
        return o.finish()
    }

    /// Writes samples to `url` (replacing it), in the given order.
    public static func writeSamples(_ samples: [Sample], to url: URL) throws {
        var w = try JSONLinesWriter(url: url)
        for s in samples { try w.append(jsonBytes(s)) }
        try w.close()
    }

    /// Writes the catalog to `url` (replacing it), items in natural id order.
    public static func writeCatalog(_ catalog: ItemCatalog, to url: URL) throws {
        var w = try JSONLinesWriter(url: url)
        for item in catalog.items { try w.append(jsonBytes(item)) }
        try w.close()
    }

    /// Reads samples written by `writeSamples` (or by any tool writing the same objects).
    public static func readSamples(from url: URL) throws -> [Sample] {
        try readJSONLines(Sample.self, from: url)
    }

    /// Reads a catalog written by `writeCatalog`.
    public static func readCatalog(from url: URL) throws -> ItemCatalog {
        ItemCatalog(try readJSONLines(CatalogItem.self, from: url))
    }
}
