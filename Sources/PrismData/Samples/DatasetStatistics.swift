/// One row of the dataset statistics table (the paper's Table 1).
public struct DatasetStatistics: Sendable, Hashable, Codable {
    public var dataset: String
    public var users: Int
    public var items: Int
    public var interactions: Int
    public var train: Int
    public var valid: Int
    public var test: Int

    public init(dataset: String, users: Int, items: Int, interactions: Int, train: Int, valid: Int, test: Int) {
        self.dataset = dataset
        self.users = users
        self.items = items
        self.interactions = interactions
        self.train = train
        self.valid = valid
        self.test = test
    }

    /// Counts users and items that occur in `interactions`, and samples per split.
    public init(dataset: String, interactions: [Interaction], samples: [Sample]) {
        var users = Set<String>(), items = Set<String>()
        for i in interactions {
            users.insert(i.userID)
            items.insert(i.itemID)
        }
        var counts: [Split: Int] = [:]
        for s in samples { counts[s.split, default: 0] += 1 }
        self.init(dataset: dataset, users: users.count, items: items.count, interactions: interactions.count,
                  train: counts[.train] ?? 0, valid: counts[.valid] ?? 0, test: counts[.test] ?? 0)
    }

    /// Total samples over all splits.
    public var samples: Int { train + valid + test }

    /// A Markdown table, numbers right-aligned with thousands separators:
    ///
    ///     | Dataset | Users | Items | Interactions |  Train | Valid | Test |
    ///     |---------|------:|------:|-------------:|-------:|------:|-----:|
    ///     | ml-100k |   943 | 1,682 |      100,000 | 97,171 |   943 |  943 |
    public static func table(_ rows: [DatasetStatistics]) -> String {
        let header = ["Dataset", "Users", "Items", "Interactions", "Train", "Valid", "Test"]
        let body = rows.map { r in
            [r.dataset] + [r.users, r.items, r.interactions, r.train, r.valid, r.test].map(groupedThousands)
        }
        var widths = header.map(\.count)
        for row in body {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i == 0 ? c + pad : pad + c
            }
            return "| " + padded.joined(separator: " | ") + " |"
        }
        let rule = "|" + widths.enumerated().map { i, w in
            i == 0 ? String(repeating: "-", count: w + 2) : String(repeating: "-", count: w + 1) + ":"
        }.joined(separator: "|") + "|"
        return ([line(header), rule] + body.map(line)).joined(separator: "\n") + "\n"
    }

    /// This row alone as a table.
    public var table: String { Self.table([self]) }
}

/// 1234567 → "1,234,567" (locale-independent).
func groupedThousands(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}
