import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

/// `prism probe`: an HTTP GET that exits 0 on 200, for health checks in images without curl
/// (`Deploy/compose.yaml` probes a worker's `/readyz`).
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "GET a URL (e.g. a worker's http://127.0.0.1:9465/readyz); exit 0 when it answers 200."
    )

    @Option(help: "The URL to get.") var url: String
    @Option(help: "Milliseconds to wait for the answer.") var timeoutMs: Int64 = 2_000

    func run() async throws {
        let request = HTTPClientRequest(url: url)
        let outcome: String
        var ok = false
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(timeoutMs))
            let body = try await response.body.collect(upTo: 64 << 10)
            ok = response.status == .ok
            outcome = "\(response.status.code) \(String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines))"
        } catch {
            outcome = "no answer: \(error)"
        }
        print(outcome)
        if !ok { throw ExitCode(1) }
    }
}
