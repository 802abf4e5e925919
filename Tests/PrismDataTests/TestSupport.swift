import Foundation
import XCTest
@testable import PrismData

/// A fresh temporary directory, removed when the test ends.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("prismdata-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes UTF-8 text and returns the file's URL.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> URL {
        try write(name, bytes: Array(text.utf8))
    }

    /// Writes raw bytes (e.g. Latin-1) and returns the file's URL.
    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> URL {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: file)
        return file
    }

    /// A subdirectory (created).
    func subdirectory(_ name: String) throws -> URL {
        let sub = url.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        return sub
    }
}

/// Encodes text as ISO-8859-1 bytes (test input for Latin-1 files).
func latin1(_ text: String) -> [UInt8] {
    text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
}

/// Asserts that `body` throws `DataError.malformedLine` for a file whose name ends with `file`, at `line`.
func assertMalformed(
    file: String, line: Int, _ body: () throws -> Void,
    sourceFile: StaticString = #filePath, sourceLine: UInt = #line
) {
    do {
        try body()
        XCTFail("expected a malformed-line error for \(file):\(line)", file: sourceFile, line: sourceLine)
    } catch let DataError.malformedLine(path, number, _) {
        XCTAssertTrue(path.hasSuffix(file), "error names \(path), expected \(file)", file: sourceFile, line: sourceLine)
        XCTAssertEqual(number, line, file: sourceFile, line: sourceLine)
        let message = "\(DataError.malformedLine(file: path, line: number, reason: "x"))"
        XCTAssertTrue(message.contains("\(file):\(line)"), message, file: sourceFile, line: sourceLine)
    } catch {
        XCTFail("unexpected error \(error)", file: sourceFile, line: sourceLine)
    }
}

/// A catalog item with the fields the prompt tests use.
func movie(_ id: String, _ title: String, _ year: Int?, genres: [String] = [], directors: [String] = [],
           actors: [String] = []) -> CatalogItem {
    CatalogItem(id: id, title: title, year: year, genres: genres, directors: directors, actors: actors)
}
