import Foundation
import PrismBench
import PrismSecurity
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
    /// When set, the broker is a CURVE broker and workers connect with the fleet's worker key.
    let keys: FleetKeys?

    /// Starts a broker on loopback ports (`tcp://127.0.0.1:*`, or the given endpoints).
    init(brokerArguments: [String] = [], frontend: String = "tcp://127.0.0.1:*", backend: String = "tcp://127.0.0.1:*",
         keys: FleetKeys? = nil) throws {
        self.keys = keys
        self.brokerArguments = brokerArguments + (keys?.brokerArguments ?? [])
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
        ] + (keys?.workerArguments ?? []) + extra)
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

    init(endpoint: String, curve: CurveClientKeys? = nil) throws {
        context = try Context()
        socket = try context.socket(.dealer)
        try socket.setHighWaterMarks(send: 100_000, receive: 100_000)
        if let curve { try socket.makeCurveClient(curve) }
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

/// Key files for a CURVE fleet in a temporary folder: the broker's pair, one client and one worker
/// pair on the allow-lists (with the given grants), and one stranger pair on none.
struct FleetKeys {
    let directory: URL
    let broker: CurveKeyPair, client: CurveKeyPair, worker: CurveKeyPair, stranger: CurveKeyPair

    init(clientServices: String = "", workerServices: String = "") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("prism-fleet-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        broker = try CurveKeyPair.generate()
        client = try CurveKeyPair.generate()
        worker = try CurveKeyPair.generate()
        stranger = try CurveKeyPair.generate()
        for (name, pair) in [("broker", broker), ("client", client), ("worker", worker), ("stranger", stranger)] {
            try KeyFiles.write(pair, prefix: path(name))
        }
        try "\(client.publicKey) \(clientServices)\n".write(toFile: path("clients.txt"), atomically: true, encoding: .utf8)
        try "\(worker.publicKey) \(workerServices)\n".write(toFile: path("workers.txt"), atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    var brokerArguments: [String] {
        ["--curve-key", path("broker.key"), "--client-keys", path("clients.txt"), "--worker-keys", path("workers.txt")]
    }
    var workerArguments: [String] { ["--broker-key", path("broker.pub"), "--key", path("worker.key")] }
    var clientArguments: [String] { ["--broker-key", path("broker.pub"), "--key", path("client.key")] }
    var clientKeys: CurveClientKeys { get throws { try CurveClientKeys(serverPublicKey: broker.publicKey, own: client) } }
    var strangerKeys: CurveClientKeys { get throws { try CurveClientKeys(serverPublicKey: broker.publicKey, own: stranger) } }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
