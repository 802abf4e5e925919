import Foundation
import PrismBench
import PrismClient
import PrismWire
import XCTest
import ZeroMQ

/// Two brokers, workers registered with both, clients failing over: real processes, a real SIGKILL.
final class FailoverProcessTests: XCTestCase {
    /// 2,000 calls; the clients' broker is SIGKILLed mid-run and never restarted. Every call ends once,
    /// OK, with its own body, through the second broker.
    func testBrokerKilledForGoodClientsFailOverAndLoseNothing() async throws {
        let first = try ProcessFleet(), second = try ProcessFleet()
        defer { first.stop(); second.stop() }
        let backends = "\(first.backend),\(second.backend)"
        var workers: [ChildProcess] = []
        defer { for w in workers { w.kill() } }
        for i in 0..<3 {
            workers.append(try ChildProcess(executable: ProcessFleet.prismPath, arguments: [
                "worker", "--broker", backends, "--service", "sleep", "--handler", "sleep", "--sleep-ms", "5",
                "--capacity", "4", "--heartbeat-ms", "200", "--id", "w\(i)", "--log-level", "error"]))
        }
        var config = ClientConfiguration(broker: "\(first.frontend),\(second.frontend)")
        config.resendIntervalMs = 300
        config.failoverAfterMs = 1_000
        // Both brokers must know the workers before the run (health through each).
        for endpoint in [first.frontend, second.frontend] {
            let probe = try PrismClient(configuration: ClientConfiguration(broker: endpoint))
            let start = Date()
            while Date().timeIntervalSince(start) < 10 {
                if let h = await probe.health(service: "sleep"), h.services.first?.workers == 3 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            await probe.close()
        }
        let clients = try (0..<4).map { _ in try PrismClient(configuration: config) }
        let perClient = 500
        let calls = Task {
            try await withThrowingTaskGroup(of: (Int, Double, Int).self) { group in
                for (c, client) in clients.enumerated() {
                    group.addTask {
                        var done = 0, longest = 0.0, resent = 0
                        for i in 0..<perClient {
                            let body = "c\(c)-\(i)"
                            let sent = Date()
                            let result = try await client.call(service: "sleep", body: Data(body.utf8), timeoutMs: 30_000)
                            XCTAssertEqual(String(decoding: result.body, as: UTF8.self), body)
                            done += 1
                            longest = max(longest, Date().timeIntervalSince(sent))
                            if result.attempts > 1 { resent += 1 }
                        }
                        return (done, longest, resent)
                    }
                }
                var total = 0, longest = 0.0, resent = 0
                for try await (n, l, r) in group { total += n; longest = max(longest, l); resent += r }
                return (total, longest, resent)
            }
        }
        try await Task.sleep(for: .milliseconds(800))
        first.killBroker()
        let (completed, longest, resent) = try await calls.value
        XCTAssertEqual(completed, clients.count * perClient, "every call completed")
        XCTAssertGreaterThan(resent, 0, "some calls were caught by the kill")
        print("failover: \(completed) calls, \(resent) re-sent after the kill, longest call \(Int(longest * 1000)) ms "
              + "(failover after \(config.failoverAfterMs) ms of silence); replies dropped as duplicates: "
              + "\(clients.reduce(0) { $0 + $1.duplicateReplies })")
        XCTAssertLessThan(longest, 10, "failover takes seconds, not the deadline")
        for client in clients { await client.close() }
    }
}
