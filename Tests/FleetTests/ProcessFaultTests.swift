import Foundation
import PrismBench
import PrismClient
import PrismSecurity
import PrismWire
import XCTest
import ZeroMQ

/// Real processes, real SIGKILLs: nothing accepted is lost, nothing is answered twice.
final class ProcessFaultTests: XCTestCase {
    func envelope(_ id: String, body: String, service: String = "sleep", deadlineInMs: Int64 = 60_000) -> Envelope {
        var e = Envelope()
        e.requestID = id
        e.service = service
        e.body = Data(body.utf8)
        e.attempt = 1
        e.deadlineUnixMs = unixTimeMs() + deadlineInMs
        return e
    }

    /// 1,000 requests while workers are SIGKILLed at random and replaced: every request gets
    /// exactly one reply, OK, with its own body.
    func testWorkersKilledAtRandomLoseNothingAndDuplicateNothing() throws { try workersKilledAtRandom(keys: nil) }

    /// The same with CURVE on: encrypted, authenticated, and still exactly once.
    func testWorkersKilledAtRandomUnderCURVE() throws {
        let keys = try FleetKeys()
        defer { keys.remove() }
        try workersKilledAtRandom(keys: keys)
    }

    func workersKilledAtRandom(keys: FleetKeys?) throws {
        let fleet = try ProcessFleet(brokerArguments: ["--max-redispatch", "20"], keys: keys)
        defer { fleet.stop() }
        var alive: [Int: ChildProcess] = [:]
        var nextID = 0
        func spawn() throws {
            alive[nextID] = try fleet.startWorker(service: "sleep", handler: "sleep", sleepMs: 15, capacity: 4, id: "w\(nextID)")
            nextID += 1
        }
        for _ in 0..<4 { try spawn() }
        let client = try RawClient(endpoint: fleet.frontend, curve: keys?.clientKeys)
        let total = 1_000
        for i in 0..<total { try client.send(.request(envelope("req-\(i)", body: "body-\(i)"))) }

        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var lastKill = Date()
        var replies = try client.collect(timeout: 90, until: { Set($0.map(\.requestID)).count >= total }) {
            guard Date().timeIntervalSince(lastKill) > 0.15, kills < 12 else { return }
            lastKill = Date()
            if let victim = alive.keys.randomElement(using: &generator) {
                alive.removeValue(forKey: victim)?.kill()
                kills += 1
            }
            try? spawn()
        }
        // Anything late or duplicated would arrive now.
        replies += try client.collect(timeout: 1.5)
        XCTAssertGreaterThanOrEqual(kills, 5, "the run should outlast several kills")
        var seen: [String: Int] = [:]
        for reply in replies { seen[reply.requestID, default: 0] += 1 }
        XCTAssertEqual(seen.count, total, "lost \(total - seen.count) requests")
        XCTAssertEqual(seen.values.filter { $0 > 1 }.count, 0, "duplicated replies")
        for reply in replies {
            XCTAssertEqual(reply.status.code, .ok, "\(reply.requestID): \(reply.status.message)")
            XCTAssertEqual(String(decoding: reply.body, as: UTF8.self), "body-" + reply.requestID.dropFirst(4))
        }
    }

    /// The broker is SIGKILLed and restarted while clients call: the clients' re-sends reach the
    /// new broker, every call completes once with its own answer.
    func testBrokerRestartWhileClientsCall() async throws { try await brokerRestartWhileClientsCall(keys: nil) }

    /// The same with CURVE on: the clients' and workers' handshakes with the new broker succeed.
    func testBrokerRestartUnderCURVE() async throws {
        let keys = try FleetKeys()
        defer { keys.remove() }
        try await brokerRestartWhileClientsCall(keys: keys)
    }

    func brokerRestartWhileClientsCall(keys: FleetKeys?) async throws {
        // Fixed endpoints so the restarted broker is found again.
        let port = try freePort(), port2 = try freePort()
        let fleet = try ProcessFleet(frontend: "tcp://127.0.0.1:\(port)", backend: "tcp://127.0.0.1:\(port2)", keys: keys)
        defer { fleet.stop() }
        for i in 0..<2 { try fleet.startWorker(service: "sleep", handler: "sleep", sleepMs: 5, capacity: 4, id: "w\(i)") }
        var config = ClientConfiguration(broker: fleet.frontend, curve: try keys?.clientKeys)
        config.resendIntervalMs = 300
        let clients = try (0..<4).map { _ in try PrismClient(configuration: config) }
        let perClient = 400
        let calls = Task {
            try await withThrowingTaskGroup(of: (Int, Int, Int).self) { group in
                for (c, client) in clients.enumerated() {
                    group.addTask {
                        var done = 0, resent = 0, resends = 0
                        for i in 0..<perClient {
                            let body = "c\(c)-\(i)"
                            let result = try await client.call(service: "sleep", body: Data(body.utf8), timeoutMs: 30_000)
                            XCTAssertEqual(String(decoding: result.body, as: UTF8.self), body)
                            done += 1
                            if result.attempts > 1 { resent += 1 }
                            resends += result.attempts - 1
                        }
                        return (done, resent, resends)
                    }
                }
                var total = 0, resent = 0, resends = 0
                for try await (n, r, e) in group { total += n; resent += r; resends += e }
                return (total, resent, resends)
            }
        }
        try await Task.sleep(for: .milliseconds(700))
        fleet.killBroker()
        try await Task.sleep(for: .milliseconds(400))
        try fleet.restartBroker()
        let (completed, resent, resends) = try await calls.value
        XCTAssertEqual(completed, clients.count * perClient)
        XCTAssertGreaterThan(resent, 0, "some calls must have been caught by the restart")
        // Each call returned exactly once with its own body (checked above, call by call). On the
        // wire, a re-send that crossed its answer gets the broker's replayed answer too; the client
        // drops it. Only a re-send can draw such a replay, so they are bounded by the re-sends.
        let dropped = clients.reduce(0) { $0 + $1.duplicateReplies }
        XCTAssertLessThanOrEqual(dropped, resends)
        for client in clients { await client.close() }
    }

    /// 10,000 random and malformed messages on both sockets; the broker answers what it can,
    /// stays up, and serves normal calls afterwards.
    func testMalformedInputDoesNotHurtTheBroker() throws {
        let fleet = try ProcessFleet(brokerArguments: ["--max-body-bytes", "65536"])
        defer { fleet.stop() }
        try fleet.startWorker(service: "echo", handler: "echo", capacity: 4, id: "echo0")
        let front = try RawClient(endpoint: fleet.frontend)
        let back = try RawClient(endpoint: fleet.backend)
        var rng = SystemRandomNumberGenerator()
        func randomBytes(_ max: Int) -> [UInt8] { (0..<Int.random(in: 0...max, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        var oversizedIDs: [String] = []
        for i in 0..<10_000 {
            let target = i % 3 == 0 ? back : front
            let tag = target === back ? ProtocolTag.worker : ProtocolTag.client
            let frames: [[UInt8]]
            switch i % 8 {
            case 0: frames = (0..<Int.random(in: 1...6, using: &rng)).map { _ in randomBytes(40) }  // noise
            case 1: frames = [tag]  // too few frames
            case 2: frames = [tag, [UInt8.random(in: 0...255, using: &rng)], randomBytes(64)]  // any command, garbage body
            case 3: frames = [tag, [Command.request.rawValue], randomBytes(64)]  // invalid protobuf, likely
            case 4: frames = [Array("PRISM/X9".utf8), [Command.request.rawValue], []]  // wrong tag
            case 5: frames = [tag, [], []]  // empty command frame
            case 6:  // oversized body (under libzmq's hard cap)
                let id = "big-\(i)"
                if target === front { oversizedIDs.append(id) }
                var e = envelope(id, body: String(repeating: "x", count: 70_000), service: "echo")
                e.metadata["k"] = "v"
                frames = [tag, [Command.request.rawValue], try e.serializedBytes()]
            default: frames = [tag, [Command.request.rawValue, 0, 1], randomBytes(16)] + (i % 2 == 0 ? [randomBytes(8)] : [])
            }
            try target.sendRaw(frames.isEmpty ? [[]] : frames)
        }
        let replies = try front.collect(timeout: 3)
        XCTAssertGreaterThan(replies.filter { $0.status.code == .invalidArgument }.count, 100, "malformed requests are answered")
        let big = replies.filter { $0.requestID.hasPrefix("big-") }
        XCTAssertEqual(Set(big.map(\.requestID)), Set(oversizedIDs))
        XCTAssertTrue(big.allSatisfy { $0.status.code == .resourceExhausted })
        // Still serving.
        let ok = try ProcessFleet.runCLI(["call", "--broker", fleet.frontend, "--service", "echo", "--body", "still here"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout, "still here\n")
        XCTAssertTrue(fleet.broker?.process.isRunning ?? false)
    }

    /// The CLI turns statuses into clear errors and a non-zero exit.
    func testCLIReportsStatusCodes() throws {
        let fleet = try ProcessFleet(brokerArguments: ["--grace-ms", "300"])
        defer { fleet.stop() }
        try fleet.startWorker(service: "sleep", handler: "sleep", sleepMs: 2_000, id: "s0")
        let unknown = try ProcessFleet.runCLI(["call", "--broker", fleet.frontend, "--service", "nope", "--body", "x"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("UNAVAILABLE"), unknown.stderr)
        let late = try ProcessFleet.runCLI(["call", "--broker", fleet.frontend, "--service", "sleep", "--body", "x", "--timeout-ms", "300"])
        XCTAssertEqual(late.status, 1)
        XCTAssertTrue(late.stderr.contains("DEADLINE_EXCEEDED"), late.stderr)
        let health = try ProcessFleet.runCLI(["health", "--broker", fleet.frontend])
        XCTAssertEqual(health.status, 0)
        XCTAssertTrue(health.stdout.contains("sleep"), health.stdout)
    }

    /// `prism health` keeps every column of a service whose name is longer than the name column's usual
    /// width (it used to cut the name and run it into the worker count: "prism.explain.int8-encod0").
    func testHealthTableKeepsLongServiceNames() throws {
        let fleet = try ProcessFleet()
        defer { fleet.stop() }
        let name = "prism.explain.int8-encoder.long-name"
        try fleet.startWorker(service: name, capacity: 3, id: "e0")
        var fields: [String] = []
        for _ in 0..<50 where fields.count < 2 || fields[1] != "1" {
            let health = try ProcessFleet.runCLI(["health", "--broker", fleet.frontend, "--service", name])
            XCTAssertEqual(health.status, 0, health.stderr)
            let row = health.stdout.split(separator: "\n").first { $0.hasPrefix("prism.explain") } ?? ""
            fields = row.split(separator: " ").map(String.init)
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertEqual(fields, [name, "1", "3", "0", "0"])
    }

    func freePort() throws -> Int {
        let context = try Context()
        let socket = try context.socket(.router)
        try socket.bind("tcp://127.0.0.1:*")
        let endpoint = try socket.lastEndpoint()
        socket.close()
        return Int(endpoint.split(separator: ":").last ?? "") ?? 0
    }
}
