import Foundation
import PrismBench
import PrismWire
import XCTest
import ZeroMQ

/// Real `prism` processes for fault tests: a broker and workers that can be SIGKILLed.
final class ProcessFleet {
    static var prismPath: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("prism").path
    }

    private(set) var broker: ChildProcess?
    var frontend = ""
    var backend = ""
    var workers: [ChildProcess] = []
    let brokerArguments: [String]

    /// Starts a broker on loopback ports (`tcp://127.0.0.1:*`, or the given endpoints).
    init(brokerArguments: [String] = [], frontend: String = "tcp://127.0.0.1:*", backend: String = "tcp://127.0.0.1:*") throws {
        self.brokerArguments = brokerArguments
        try startBroker(frontend: frontend, backend: backend)
    }

    func startBroker(frontend: String, backend: String) throws {
        let broker = try ChildProcess(executable: ProcessFleet.prismPath, arguments: [
            "broker", "--frontend", frontend, "--backend", backend, "--heartbeat-ms", "200", "--log-level", "error",
        ] + brokerArguments)
        let line = try broker.waitForLine(containing: "prism broker ready")
        for word in line.split(separator: " ") {
            if word.hasPrefix("frontend=") { self.frontend = String(word.dropFirst(9)) }
            if word.hasPrefix("backend=") { self.backend = String(word.dropFirst(8)) }
        }
        self.broker = broker
    }

    /// Restarts the broker on the same endpoints after a SIGKILL.
    func killBroker() { broker?.kill() }
    func restartBroker() throws { try startBroker(frontend: frontend, backend: backend) }

    @discardableResult
    func startWorker(service: String = "echo", handler: String = "echo", sleepMs: Int = 0, capacity: Int = 1, id: String,
                     extra: [String] = []) throws -> ChildProcess {
        let worker = try ChildProcess(executable: ProcessFleet.prismPath, arguments: [
            "worker", "--broker", backend, "--service", service, "--handler", handler, "--sleep-ms", "\(sleepMs)",
            "--capacity", "\(capacity)", "--heartbeat-ms", "200", "--id", id, "--log-level", "error",
        ] + extra)
        workers.append(worker)
        return worker
    }

    /// Runs `prism ARGS` to completion; returns exit status, stdout and stderr.
    static func runCLI(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: prismPath)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func stop() {
        for worker in workers { worker.kill() }
        broker?.terminate()
    }
}

/// A bare DEALER speaking the client protocol, to see every reply the broker sends
/// (the Swift client would hide duplicates).
final class RawClient {
    let context: Context
    let socket: Socket

    init(endpoint: String) throws {
        context = try Context()
        socket = try context.socket(.dealer)
        try socket.setHighWaterMarks(send: 100_000, receive: 100_000)
        try socket.connect(endpoint)
    }

    func send(_ message: ClientMessage) throws { try socket.send(message.frames) }
    func sendRaw(_ frames: [[UInt8]]) throws { try socket.send(frames) }

    /// Collects replies until `until` returns true or `timeout` passes.
    func collect(timeout: TimeInterval, until done: ([Reply]) -> Bool = { _ in false }, every: () -> Void = {}) throws -> [Reply] {
        var replies: [Reply] = []
        var poller = Poller()
        poller.add(socket)
        let end = Date().addingTimeInterval(timeout)
        while Date() < end && !done(replies) {
            every()
            if try poller.poll(timeoutMs: 20) > 0 {
                while let frames = try? socket.receive(dontWait: true) {
                    if case .reply(let reply)? = try? ClientResponse.decode(frames[...]) { replies.append(reply) }
                }
            }
        }
        return replies
    }
}
