import Foundation
import PrismTestSupport
import XCTest

/// Runs one of scripts/eval's reference scripts (the field's own packages) on JSON input: a failure
/// under CI when the project's Python or its packages are missing, a skip elsewhere.
func runReferenceScript<T: Decodable>(_ script: String, input: [String: Any], as type: T.Type) throws -> T {
    guard let python = ProjectPython.locate() else {
        let message = "no project Python (scripts/setup-python.sh, or PRISM_PYTHON) for \(script)"
        if ProjectPython.isCI { XCTFail(message) }
        throw XCTSkip(message)
    }
    let run = try ProjectPython.run(python, script: script, input: try JSONSerialization.data(withJSONObject: input))
    if run.status != 0, run.stderr.contains("ModuleNotFoundError"), !ProjectPython.isCI {
        throw XCTSkip("reference packages missing (scripts/setup-python.sh installs them): \(run.stderr.suffix(200))")
    }
    XCTAssertEqual(run.status, 0, run.stderr)
    return try JSONDecoder().decode(T.self, from: run.stdout)
}
