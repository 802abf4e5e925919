import Foundation
import PrismBroker
import PrismClient
import PrismWire
import PrismWorker
import XCTest

/// Broker, workers and clients in one process over real sockets: routing, limits, errors.
final class InProcessFleetTests: XCTestCase {
    func testEchoRoundTrip() async throws {
        let fleet = try await InProcessFleet()
        try fleet.addWorker(service: "echo", handler: EchoHandler(), name: "w1")
        let client = try fleet.client()
        let result = try await client.call(service: "echo", body: Data("hello prism".utf8), timeoutMs: 5_000)
        XCTAssertEqual(String(decoding: result.body, as: UTF8.self), "hello prism")
        XCTAssertEqual(result.workerID, "w1")
        XCTAssertEqual(result.attempts, 1)
        await fleet.stop()
    }

    /// An `InlineRequestHandler` is answered on the worker's I/O thread, never through its async path;
    /// an expired deadline is still refused before the handler runs.
    func testInlineHandlerAnswersWithoutItsAsyncPath() async throws {
        struct Tagged: SingleRequestHandler, InlineRequestHandler {
            func handle(_ request: WorkRequest) async throws -> WorkResult { .ok(Data("async".utf8)) }
            func handleInline(_ request: WorkRequest) -> WorkResult { .ok(Data("inline:".utf8) + request.body) }
        }
        let fleet = try await InProcessFleet()
        try fleet.addWorker(service: "tagged", handler: Tagged(), capacity: 2, name: "t1")
        let client = try fleet.client()
        let results = try await withThrowingTaskGroup(of: CallResult.self) { group in
            for i in 0..<40 { group.addTask { try await client.call(service: "tagged", body: Data("\(i)".utf8), timeoutMs: 5_000) } }
            var all: [CallResult] = []
            for try await result in group { all.append(result) }
            return all
        }
        XCTAssertEqual(Set(results.map { String(decoding: $0.body, as: UTF8.self) }), Set((0..<40).map { "inline:\($0)" }))
        await fleet.stop()
    }

    func testTwoServicesSeveralWorkersEachCapacityRespected() async throws {
        let fleet = try await InProcessFleet()
        let probes = (0..<3).map { _ in ConcurrencyProbe(sleepMs: 30) }
        for (i, probe) in probes.enumerated() { try fleet.addWorker(service: "slow", handler: probe, capacity: 2, name: "slow\(i)") }
        for i in 0..<2 { try fleet.addWorker(service: "echo", handler: EchoHandler(), capacity: 4, name: "echo\(i)") }
        try await fleet.waitForWorkers("slow", count: 3)
        try await fleet.waitForWorkers("echo", count: 2)
        let client = try fleet.client()
        let results = try await withThrowingTaskGroup(of: (String, CallResult).self) { group in
            for i in 0..<60 {
                let service = i % 2 == 0 ? "slow" : "echo"
                group.addTask { (service, try await client.call(service: service, body: Data("\(i)".utf8), timeoutMs: 10_000)) }
            }
            var all: [(String, CallResult)] = []
            for try await result in group { all.append(result) }
            return all
        }
        XCTAssertEqual(results.count, 60)
        for (service, result) in results { XCTAssertTrue(result.workerID.hasPrefix(service), "\(service) answered by \(result.workerID)") }
        // 30 slow requests over 3 workers of capacity 2: all three used, none over capacity.
        let slowWorkers = Set(results.filter { $0.0 == "slow" }.map(\.1.workerID))
        XCTAssertEqual(slowWorkers.count, 3)
        for probe in probes {
            XCTAssertLessThanOrEqual(probe.peak, 2)
            XCTAssertEqual(probe.peak, 2, "work should fill each worker's capacity")
        }
        await fleet.stop()
    }

    func testDeadlineExceeded() async throws {
        let fleet = try await InProcessFleet()
        try fleet.addWorker(service: "sleep", handler: SleepHandler(milliseconds: 2_000))
        try await fleet.waitForWorkers("sleep", count: 1)
        let client = try fleet.client()
        do {
            _ = try await client.call(service: "sleep", body: Data(), timeoutMs: 200)
            XCTFail("expected DEADLINE_EXCEEDED")
        } catch {
            XCTAssertEqual(error.code, .deadlineExceeded)
        }
        // The cancelled request frees the worker promptly: a short call succeeds right after.
        let quick = try await client.call(service: "sleep", body: Data("q".utf8), metadata: ["sleep_ms": "1"], timeoutMs: 3_000)
        XCTAssertEqual(quick.body, Data("q".utf8))
        await fleet.stop()
    }

    func testQueueBoundGivesResourceExhausted() async throws {
        var config = InProcessFleet.fastBroker()
        config.maxQueuedPerService = 3
        config.unavailableGraceMs = 5_000
        let fleet = try await InProcessFleet(configuration: config)
        let client = try fleet.client()
        let codes = await withTaskGroup(of: StatusCode?.self) { group in
            for i in 0..<8 {
                group.addTask {
                    do { _ = try await client.call(service: "nobody-yet", body: Data("\(i)".utf8), timeoutMs: 1_000); return .ok }
                    catch let error as PrismClientError { return error.code } catch { return nil }
                }
            }
            var codes: [StatusCode?] = []
            for await code in group { codes.append(code) }
            return codes
        }
        XCTAssertEqual(codes.filter { $0 == .resourceExhausted }.count, 5)
        XCTAssertEqual(codes.filter { $0 == .unavailable }.count, 3, "the queued ones time out as UNAVAILABLE: no worker")
        await fleet.stop()
    }

    func testCancelRunningRequest() async throws {
        let fleet = try await InProcessFleet()
        try fleet.addWorker(service: "sleep", handler: SleepHandler(milliseconds: 5_000))
        try await fleet.waitForWorkers("sleep", count: 1)
        let client = try fleet.client()
        let id = UUID().uuidString
        let call = Task { try await client.call(service: "sleep", body: Data(), timeoutMs: 10_000, requestID: id) }
        try await Task.sleep(for: .milliseconds(200))
        let started = Date()
        client.cancel(requestID: id)
        do {
            _ = try await call.value
            XCTFail("expected CANCELLED")
        } catch let error as PrismClientError {
            XCTAssertEqual(error.code, .cancelled)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        // The worker stopped sleeping: it serves the next request at once.
        let next = try await client.call(service: "sleep", body: Data("n".utf8), metadata: ["sleep_ms": "0"], timeoutMs: 2_000)
        XCTAssertEqual(next.body, Data("n".utf8))
        await fleet.stop()
    }

    func testUnknownServiceAnswersUnavailable() async throws {
        let fleet = try await InProcessFleet()
        let client = try fleet.client()
        do {
            _ = try await client.call(service: "no-such-service", body: Data(), timeoutMs: 5_000)
            XCTFail("expected UNAVAILABLE")
        } catch {
            XCTAssertEqual(error.code, .unavailable)
            XCTAssertTrue(error.description.contains("no-such-service"), error.description)
        }
        await fleet.stop()
    }

    func testHandlerErrorsCarryTheirStatus() async throws {
        let fleet = try await InProcessFleet()
        try fleet.addWorker(service: "sleep", handler: SleepHandler(milliseconds: 0))
        let client = try fleet.client()
        do {
            _ = try await client.call(service: "sleep", body: Data(), metadata: ["sleep_ms": "soon"], timeoutMs: 3_000)
            XCTFail("expected INVALID_ARGUMENT")
        } catch {
            XCTAssertEqual(error.code, .invalidArgument)
            XCTAssertTrue(error.description.contains("sleep_ms"))
        }
        await fleet.stop()
    }

    func testHealthReportsWorkersAndCapacity() async throws {
        let fleet = try await InProcessFleet()
        try fleet.addWorker(service: "echo", handler: EchoHandler(), capacity: 3)
        try fleet.addWorker(service: "echo", handler: EchoHandler(), capacity: 5)
        try await fleet.waitForWorkers("echo", count: 2)
        let health = try await fleet.client().health(service: "echo")
        XCTAssertEqual(health?.services.first?.capacity, 8)
        XCTAssertEqual(health?.services.first?.queued, 0)
        await fleet.stop()
    }

    func testDrainingWorkerFinishesHeldWorkAndLeaves() async throws {
        let fleet = try await InProcessFleet()
        let worker = try fleet.addWorker(service: "sleep", handler: SleepHandler(milliseconds: 300), capacity: 2)
        try await fleet.waitForWorkers("sleep", count: 1)
        let client = try fleet.client()
        let calls = (0..<2).map { i in Task { try await client.call(service: "sleep", body: Data("\(i)".utf8), timeoutMs: 5_000) } }
        try await Task.sleep(for: .milliseconds(100))
        worker.shutdown()
        for call in calls { _ = try await call.value }  // both held requests complete
        await worker.join()
        try await fleet.waitForWorkers("sleep", count: 0)
        await fleet.stop()
    }
}

/// Per-client isolation over real sockets: a second client that sends another client's request id
/// (seen in a log, or predicted) gets neither that client's reply in flight, nor its replay.
final class ClientIsolationTests: XCTestCase {
    func envelope(_ id: String, _ body: String) -> Envelope {
        var e = Envelope()
        e.requestID = id
        e.service = "sleep"
        e.body = Data(body.utf8)
        e.attempt = 1
        return e
    }

    func testAnotherClientsRequestIDGetsNeitherItsReplyNorItsReplay() async throws {
        let fleet = try await InProcessFleet()
        try fleet.addWorker(service: "sleep", handler: SleepHandler(milliseconds: 300), capacity: 2, name: "slow")
        try await fleet.waitForWorkers("sleep", count: 1)
        let victim = try RawClient(endpoint: fleet.endpoints.frontend)
        let hostile = try RawClient(endpoint: fleet.endpoints.frontend)
        try victim.send(.request(envelope("shared-id", "victim's history")))
        try await Task.sleep(for: .milliseconds(50))
        // While the victim's request runs.
        try hostile.send(.request(envelope("shared-id", "probe")))
        let refused = try hostile.collect(timeout: 1) { !$0.isEmpty }
        XCTAssertEqual(refused.map(\.status.code), [.alreadyExists])
        XCTAssertTrue(refused.allSatisfy { $0.body.isEmpty })
        let own = try victim.collect(timeout: 2) { !$0.isEmpty }
        XCTAssertEqual(own.map { String(decoding: $0.body, as: UTF8.self) }, ["victim's history"])
        // After it was answered: the hostile client's request is its own.
        try hostile.send(.request(envelope("shared-id", "probe")))
        let after = try hostile.collect(timeout: 2) { !$0.isEmpty }
        XCTAssertEqual(after.map { String(decoding: $0.body, as: UTF8.self) }, ["probe"], "never the victim's body")
        await fleet.stop()
    }
}

/// A worker reply over the broker's body limit: a clear RESOURCE_EXHAUSTED to the caller at once,
/// and the worker's slot freed so that it goes on serving.
final class OversizedReplyTests: XCTestCase {
    /// Answers "big" with a body ten times the request's size, anything else with itself.
    struct Inflating: SingleRequestHandler {
        func handle(_ request: WorkRequest) async throws -> WorkResult {
            String(decoding: request.body, as: UTF8.self) == "big" ? .ok(Data(repeating: 0x61, count: 20_000)) : .ok(request.body)
        }
    }

    func testOversizedReplyIsAnErrorAndTheSlotIsFreed() async throws {
        var config = InProcessFleet.fastBroker()
        config.maxBodyBytes = 10_000
        let fleet = try await InProcessFleet(configuration: config)
        try fleet.addWorker(service: "inflate", handler: Inflating(), capacity: 1, name: "only")
        try await fleet.waitForWorkers("inflate", count: 1)
        let client = try fleet.client()
        let started = Date()
        do {
            _ = try await client.call(service: "inflate", body: Data("big".utf8), timeoutMs: 5_000)
            XCTFail("an oversized reply must not come through")
        } catch let error as PrismClientError {
            XCTAssertEqual(error.code, .resourceExhausted, "\(error)")
            XCTAssertTrue("\(error)".contains("exceeds the broker's 10000-byte body limit"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "answered at once, not at the deadline")
        // The only worker, capacity 1, still serves.
        for i in 0..<3 {
            let result = try await client.call(service: "inflate", body: Data("small \(i)".utf8), timeoutMs: 2_000)
            XCTAssertEqual(String(decoding: result.body, as: UTF8.self), "small \(i)")
        }
        await fleet.stop()
    }
}
