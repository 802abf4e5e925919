import Foundation
import PrismBench
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The broker's and a worker's Prometheus endpoints, scraped over HTTP after real traffic.
final class MetricsEndpointTests: XCTestCase {
    func testBrokerAndWorkerExposeTheirCounters() throws {
        let brokerPort = try freeTCPPort(), workerPort = try freeTCPPort()
        let fleet = try ProcessFleet(brokerArguments: ["--metrics-port", "\(brokerPort)", "--grace-ms", "200"])
        defer { fleet.stop() }
        try fleet.startWorker(service: "echo", handler: "echo", id: "m0", extra: ["--metrics-port", "\(workerPort)"])
        for i in 0..<5 {
            let call = try ProcessFleet.runCLI(["call", "--broker", fleet.frontend, "--service", "echo", "--body", "m\(i)"])
            XCTAssertEqual(call.status, 0, call.stderr)
        }
        _ = try ProcessFleet.runCLI(["call", "--broker", fleet.frontend, "--service", "nobody", "--body", "x"])
        Thread.sleep(forTimeInterval: 0.4)  // gauges are published every 250 ms
        let broker = try httpGet(port: brokerPort, path: "/metrics")
        XCTAssertTrue(broker.hasPrefix("HTTP/1.0 200"), broker)
        XCTAssertTrue(broker.contains(#"prism_broker_replies_total{service="echo",code="OK"} 5"#), broker)
        XCTAssertTrue(broker.contains(#"prism_broker_replies_total{service="nobody",code="UNAVAILABLE"} 1"#), broker)
        XCTAssertTrue(broker.contains(#"prism_broker_workers{service="echo"} 1"#), broker)
        XCTAssertTrue(broker.contains("prism_broker_request_duration_seconds_bucket"), broker)
        let worker = try httpGet(port: workerPort, path: "/metrics")
        XCTAssertTrue(worker.contains(#"prism_worker_replies_total{service="echo",code="OK"} 5"#), worker)
        XCTAssertTrue(try httpGet(port: brokerPort, path: "/nope").hasPrefix("HTTP/1.0 404"))
    }

    /// A worker's readiness follows its broker: 503 while no broker answers, 200 once one does; and
    /// `prism probe` (the compose health check) agrees.
    func testWorkerReadinessFollowsItsBroker() throws {
        let port = try freeTCPPort(), backend = try freeTCPPort()
        let worker = try ChildProcess(executable: ProcessFleet.prismPath, arguments: [
            "worker", "--broker", "tcp://127.0.0.1:\(backend)", "--service", "echo", "--heartbeat-ms", "200",
            "--metrics-port", "\(port)", "--log-level", "error"])
        defer { worker.kill() }
        XCTAssertTrue(try httpGet(port: port, path: "/healthz").hasPrefix("HTTP/1.0 200"), "alive without a broker")
        XCTAssertTrue(try httpGet(port: port, path: "/readyz").hasPrefix("HTTP/1.0 503"), "not ready without a broker")
        let notReady = try ProcessFleet.runCLI(["probe", "--url", "http://127.0.0.1:\(port)/readyz"])
        XCTAssertEqual(notReady.status, 1, notReady.stdout)
        let fleet = try ProcessFleet(backend: "tcp://127.0.0.1:\(backend)")
        defer { fleet.stop() }
        var ready = ""
        for _ in 0..<50 {
            ready = try httpGet(port: port, path: "/readyz")
            if ready.hasPrefix("HTTP/1.0 200") { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertTrue(ready.hasPrefix("HTTP/1.0 200"), ready)
        let probe = try ProcessFleet.runCLI(["probe", "--url", "http://127.0.0.1:\(port)/readyz"])
        XCTAssertEqual(probe.status, 0, probe.stdout + probe.stderr)
        XCTAssertTrue(probe.stdout.hasPrefix("200 ready"), probe.stdout)
    }

    func freeTCPPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(fd, $0, length) == 0, getsockname(fd, $0, &length) == 0 else { throw CocoaError(.fileWriteUnknown) }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A minimal HTTP/1.0 GET over a plain socket; retries while the server is starting.
    func httpGet(port: Int, path: String) throws -> String {
        let connection = try LoopbackSocket(port: port)
        connection.send("GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n")
        return String(decoding: connection.readToEnd().bytes, as: UTF8.self)
    }
}
