import ArgumentParser
import Foundation
import PrismBroker
import PrismSecurity
import ZeroMQ

/// `prism keygen`: a CURVE key pair for a broker, a client or a worker.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a CURVE key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub (public, for allow-lists)."
    )

    @Option(help: "Path prefix of the two files, e.g. keys/ranker.") var output: String
    @Flag(help: "Replace existing files.") var force = false

    func run() throws {
        let pair = try CurveKeyPair.generate()
        try KeyFiles.write(pair, prefix: output, force: force)
        print("wrote \(output).key (secret) and \(output).pub; public key \(pair.publicKey)")
    }
}

/// CURVE options of every command that connects to a broker (clients and workers).
struct CurveOptions: ParsableArguments {
    @Option(help: "CURVE: the broker's public key file (its .pub or .key); needs --key.") var brokerKey: String?
    @Option(help: "CURVE: this peer's key pair file (from prism keygen); needs --broker-key.") var key: String?

    func validate() throws {
        if (brokerKey == nil) != (key == nil) { throw ValidationError("--broker-key and --key go together") }
    }

    /// The keys to connect with, or nil for a plain connection.
    func clientKeys() throws -> CurveClientKeys? {
        guard let brokerKey, let key else { return nil }
        return try CurveClientKeys(serverPublicKey: KeyFiles.readPublicKey(brokerKey), own: KeyFiles.readPair(key))
    }
}

/// The broker's CURVE options: its key pair and the allow-lists.
struct BrokerSecurityOptions: ParsableArguments {
    @Option(help: "CURVE: the broker's key pair file; clients and workers then need keys listed in --client-keys / --worker-keys.")
    var curveKey: String?
    @Option(help: "CURVE: allow-list of client public keys (a file, or a directory of .pub files): one key per line, then the services it may call (none: all).")
    var clientKeys: String?
    @Option(help: "CURVE: allow-list of worker public keys: one key per line, then the services it may register (none: all).")
    var workerKeys: String?

    func validate() throws {
        let given = [curveKey, clientKeys, workerKeys].filter { $0 != nil }.count
        if given != 0 && given != 3 { throw ValidationError("--curve-key, --client-keys and --worker-keys go together") }
    }

    /// The broker's key pair and access policy, or nil for plain sockets.
    func load() throws -> (CurveKeyPair, AccessPolicy)? {
        guard let curveKey, let clientKeys, let workerKeys else { return nil }
        return (try KeyFiles.readPair(curveKey), AccessPolicy(clients: try AccessList.read(clientKeys), workers: try AccessList.read(workerKeys)))
    }
}
