import Foundation
import XCTest
import ZeroMQ
@testable import PrismSecurity

final class KeyFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("prism-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testKeygenFilesRoundTripWithASecretOnlyTheOwnerReads() throws {
        let pair = try CurveKeyPair.generate()
        let prefix = directory.appendingPathComponent("ranker").path
        try KeyFiles.write(pair, prefix: prefix)
        XCTAssertEqual(try KeyFiles.readPair(prefix + ".key"), pair)
        XCTAssertEqual(try KeyFiles.readPublicKey(prefix + ".pub"), pair.publicKey)
        XCTAssertEqual(try KeyFiles.readPublicKey(prefix + ".key"), pair.publicKey)
        let mode = try FileManager.default.attributesOfItem(atPath: prefix + ".key")[.posixPermissions] as? NSNumber
        XCTAssertEqual(mode?.intValue, 0o600)
        XCTAssertThrowsError(try KeyFiles.write(pair, prefix: prefix)) { XCTAssertEqual($0 as? SecurityError, .exists(path: prefix + ".key")) }
        // Group-readable is accepted (Kubernetes secrets with fsGroup); readable by others is refused.
        chmod(prefix + ".key", 0o440)
        XCTAssertEqual(try KeyFiles.readPair(prefix + ".key"), pair)
        chmod(prefix + ".key", 0o644)
        XCTAssertThrowsError(try KeyFiles.readPair(prefix + ".key")) {
            XCTAssertEqual($0 as? SecurityError, .unsafePermissions(path: prefix + ".key", mode: 0o644))
        }
    }

    func testAPairWhosePublicKeyDoesNotMatchIsRefused() throws {
        let a = try CurveKeyPair.generate(), b = try CurveKeyPair.generate()
        XCTAssertThrowsError(try CurveKeyPair(publicKey: a.publicKey, secretKey: b.secretKey))
        XCTAssertEqual(try CurveKeyPair.publicKey(ofSecret: a.secretKey), a.publicKey)
    }

    func testAccessListsGrantServicesPerKey() throws {
        let a = try CurveKeyPair.generate().publicKey, b = try CurveKeyPair.generate().publicKey
        // A key may begin with '#': only "#" alone or "# …" starts a comment.
        let hashKey = "#" + String(try CurveKeyPair.generate().publicKey.dropFirst())
        var list = AccessList()
        try list.add(parsing: "# ranking services\n\n\(a) prism.explain echo\n\(b)\n\(hashKey) *\n\(a)\tteacher\n", path: "t")
        XCTAssertEqual(list.grant(for: a), .only(["prism.explain", "echo", "teacher"]), "a key listed twice gets the union")
        XCTAssertEqual(list.grant(for: b), .all)
        XCTAssertEqual(list.grant(for: hashKey), .all)
        XCTAssertNil(list.grant(for: try CurveKeyPair.generate().publicKey))
        let policy = AccessPolicy(clients: list, workers: AccessList())
        XCTAssertTrue(policy.mayCall(a, "echo"))
        XCTAssertFalse(policy.mayCall(a, "sleep"))
        XCTAssertFalse(policy.mayServe(b, "echo"), "a client key is not a worker key")
    }

    func testMalformedListsSayWhereAndSecretsAreNeverListed() throws {
        var list = AccessList()
        XCTAssertThrowsError(try list.add(parsing: "# ok\nnot-a-key echo\n", path: "clients.txt")) {
            guard case .malformed(let path, let line, _)? = $0 as? SecurityError else { return XCTFail("\($0)") }
            XCTAssertEqual(path, "clients.txt")
            XCTAssertEqual(line, 2)
        }
        let pair = try CurveKeyPair.generate()
        let prefix = directory.appendingPathComponent("worker").path
        try KeyFiles.write(pair, prefix: prefix)
        XCTAssertThrowsError(try AccessList.read(prefix + ".key")) {
            guard case .malformed(_, _, let reason)? = $0 as? SecurityError else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("never a secret key"), reason)
        }
    }

    func testADirectoryOfPubFilesIsAnAllowList() throws {
        let keys = try (0..<3).map { _ in try CurveKeyPair.generate() }
        let lists = directory.appendingPathComponent("clients")
        try FileManager.default.createDirectory(at: lists, withIntermediateDirectories: true)
        for (i, pair) in keys.enumerated() {
            try KeyFiles.write(pair, prefix: directory.appendingPathComponent("k\(i)").path)
            try FileManager.default.copyItem(at: directory.appendingPathComponent("k\(i).pub"), to: lists.appendingPathComponent("k\(i).pub"))
        }
        let list = try AccessList.read(lists.path)
        XCTAssertEqual(Set(list.grants.keys), Set(keys.map(\.publicKey)))
        XCTAssertTrue(list.grants.values.allSatisfy { $0 == .all })
        XCTAssertThrowsError(try AccessList.read(directory.appendingPathComponent("missing").path))
    }
}

final class ZAPTests: XCTestCase {
    func request(domain: String, mechanism: String = "CURVE", key: [UInt8]?) -> [[UInt8]] {
        var frames: [[UInt8]] = [Array("1.0".utf8), Array("7".utf8), Array(domain.utf8), Array("127.0.0.1".utf8), [], Array(mechanism.utf8)]
        if let key { frames.append(key) }
        return frames
    }

    func testListedKeysAreAdmittedOnTheirOwnSocketOnly() throws {
        let client = try CurveKeyPair.generate()
        // libzmq puts the 32 raw bytes of the key in the credentials frame.
        let raw = try Z85.decode(key: client.publicKey)
        XCTAssertEqual(try Z85.encode(key: raw), client.publicKey)
        var clients = AccessList()
        try clients.add(parsing: client.publicKey + " echo\n", path: "t")
        let policy = AccessPolicy(clients: clients, workers: AccessList())

        let asClient = try XCTUnwrap(ZAP.parse(request(domain: AccessPolicy.clientDomain, key: raw)))
        XCTAssertEqual(asClient.publicKey, client.publicKey)
        let (ok, admitted) = ZAP.answer(asClient, policy: policy)
        XCTAssertTrue(admitted)
        XCTAssertEqual(ok, [Array("1.0".utf8), Array("7".utf8), Array("200".utf8), Array("OK".utf8), Array(client.publicKey.utf8), []])

        let asWorker = try XCTUnwrap(ZAP.parse(request(domain: AccessPolicy.workerDomain, key: raw)))
        let (refused, workerAdmitted) = ZAP.answer(asWorker, policy: policy)
        XCTAssertFalse(workerAdmitted)
        XCTAssertEqual(refused[2], Array("400".utf8))

        let plain = try XCTUnwrap(ZAP.parse(request(domain: AccessPolicy.clientDomain, mechanism: "NULL", key: nil)))
        XCTAssertFalse(ZAP.answer(plain, policy: policy).admitted)
        XCTAssertNil(ZAP.parse([Array("2.0".utf8)]))
    }
}
