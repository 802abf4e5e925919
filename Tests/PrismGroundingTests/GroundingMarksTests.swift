import Foundation
import PrismData
import XCTest
@testable import PrismGrounding

/// The shared vectors of GROUNDING.md (`Tests/Fixtures/grounding/marks-vectors.json`, also checked by
/// scripts/tests/test_grounding_marks.py): mark strings, allowed forms, marking and stripping.
final class GroundingMarksTests: XCTestCase {
    struct Vectors: Decodable {
        var format: String
        var marks: [String]
        var catalog: [CatalogItem]
        var cases: [Case]
    }

    struct Case: Decodable {
        var history: [String]
        var item_id: String
        var explanation: String?
        var marked: String
        var plain: String
        var markable: Bool?
        var forms: [String: [String]]?
    }

    static func vectors() throws -> Vectors {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/grounding/marks-vectors.json")
        return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }

    func testMarkStringsAndFormat() throws {
        let v = try Self.vectors()
        XCTAssertEqual(v.format, GroundingMarks.formatName)
        XCTAssertEqual(v.marks, GroundingMarks.all)
    }

    func testVectors() throws {
        let v = try Self.vectors()
        let catalog = ItemCatalog(v.catalog)
        let marker = GroundedMarker(checker: GroundingChecker(catalog: catalog))
        for c in v.cases {
            let facts = GroundingFacts(history: c.history.map(catalog.itemOrPlaceholder), item: catalog.itemOrPlaceholder(c.item_id))
            XCTAssertEqual(GroundingMarks.strip(c.marked), c.plain)
            if let forms = c.forms {
                let allowed = AllowedForms(history: facts.history, item: facts.item)
                for kind in GroundingMarks.Kind.allCases {
                    XCTAssertEqual(allowed[kind], forms[kind.rawValue] ?? [], "\(kind) forms of \(c.item_id)")
                }
            }
            if let explanation = c.explanation {
                let result = marker.mark(explanation, facts: facts)
                XCTAssertEqual(result.marked, c.marked, explanation)
                XCTAssertEqual(result.markable, c.markable, "\(explanation): \(result.problems)")
            }
        }
    }

    func testSpansOfMarkedText() {
        let spans = GroundingMarks.spans("<e:item>Casino</e> stars<e:person> Robert De Niro</e>, as in<e:title> Heat")
        XCTAssertEqual(spans.map(\.kind), [.item, .person, .title])
        XCTAssertEqual(spans.map(\.form), ["Casino", "Robert De Niro", "Heat"])
        XCTAssertTrue(GroundingMarks.spans("no marks <e:bogus> here").isEmpty)
    }
}
