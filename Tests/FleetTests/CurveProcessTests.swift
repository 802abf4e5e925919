import Foundation
import PrismClient
import PrismSecurity
import PrismWire
import XCTest
import ZeroMQ

/// A CURVE broker with real processes: who gets in, and what each key may do.
final class CurveProcessTests: XCTestCase {
    func testKeysDecideWhoGetsInAndWhatTheyMayDo() async throws {
        // The client key may call echo only; the worker key may register echo only.
        let keys = try FleetKeys(clientServices: "echo", workerServices: "echo")
        defer { keys.remove() }
        let fleet = try ProcessFleet(keys: keys)
        defer { fleet.stop() }
        try fleet.startWorker(service: "echo", handler: "echo", id: "echo0")

        // A listed client calls its service.
        let ok = try ProcessFleet.runCLI(["call", "--broker", fleet.frontend, "--body", "over curve"] + keys.clientArguments)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout, "over curve\n")

        // A service the key is not granted: PERMISSION_DENIED.
        let denied = try ProcessFleet.runCLI(["call", "--broker", fleet.frontend, "--service", "teacher", "--body", "x"] + keys.clientArguments)
        XCTAssertEqual(denied.status, 1)
        XCTAssertTrue(denied.stderr.contains("PERMISSION_DENIED"), denied.stderr)

        // An unlisted key and a plain client: UNAUTHENTICATED, long before the 10 s deadline.
        for (name, extra) in [("unlisted key", ["--broker-key", keys.path("broker.pub"), "--key", keys.path("stranger.key")]),
                              ("plain client", [])] {
            let started = Date()
            let refused = try ProcessFleet.runCLI(["call", "--broker", fleet.frontend, "--body", "x", "--timeout-ms", "10000"] + extra)
            XCTAssertEqual(refused.status, 1, name)
            XCTAssertTrue(refused.stderr.contains("UNAUTHENTICATED"), "\(name): \(refused.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 8, "\(name): refused at the handshake, not at the deadline")
        }

        // A worker key registering a service it is not granted is refused for good: the process
        // exits with the reason, and the service never gets that worker.
        let rogue = try fleet.startWorker(service: "prism.explain", handler: "echo", id: "rogue")
        let deadline = Date().addingTimeInterval(10)
        while rogue.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        XCTAssertFalse(rogue.process.isRunning, "a refused worker stops")
        XCTAssertNotEqual(rogue.process.terminationStatus, 0)
        let client = try PrismClient(configuration: ClientConfiguration(broker: fleet.frontend, curve: try keys.clientKeys))
        let health = await client.health()
        await client.close()
        XCTAssertEqual(health?.services.map(\.service), ["echo"], "the client sees only what it may call")
        XCTAssertEqual(health?.services.first?.workers, 1)

        // A worker with an unlisted key never registers (its handshakes are refused).
        let stranger = try fleet.startWorker(service: "echo", handler: "echo", id: "stranger",
                                             extra: ["--broker-key", keys.path("broker.pub"), "--key", keys.path("stranger.key")])
        try await Task.sleep(for: .milliseconds(800))
        let again = try PrismClient(configuration: ClientConfiguration(broker: fleet.frontend, curve: try keys.clientKeys))
        let after = await again.health()
        await again.close()
        XCTAssertEqual(after?.services.first?.workers, 1, "the unlisted worker is not registered")
        stranger.kill()
    }

    /// Keys made by `prism keygen` are the files the broker and peers read.
    func testKeygenWritesUsableFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prism-keygen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = directory.appendingPathComponent("broker").path
        let made = try ProcessFleet.runCLI(["keygen", "--output", prefix])
        XCTAssertEqual(made.status, 0, made.stderr)
        let pair = try KeyFiles.readPair(prefix + ".key")
        XCTAssertTrue(made.stdout.contains(pair.publicKey))
        XCTAssertEqual(try KeyFiles.readPublicKey(prefix + ".pub"), pair.publicKey)
        let again = try ProcessFleet.runCLI(["keygen", "--output", prefix])
        XCTAssertNotEqual(again.status, 0, "an existing key is not replaced without --force")
        XCTAssertEqual(try KeyFiles.readPair(prefix + ".key"), pair)
        // Half a CURVE set-up is refused before anything starts.
        let half = try ProcessFleet.runCLI(["broker", "--curve-key", prefix + ".key"])
        XCTAssertNotEqual(half.status, 0)
        XCTAssertTrue(half.stderr.contains("go together"), half.stderr)
    }
}
