import CZeroMQ

/// A CURVE key pair in Z85 text (40 characters each), as libzmq takes them.
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String

    /// Checks both keys' form and that the public key belongs to the secret one.
    public init(publicKey: String, secretKey: String) throws(ZeroMQError) {
        try Z85.checkKey(publicKey, what: "public key")
        try Z85.checkKey(secretKey, what: "secret key")
        guard try Self.publicKey(ofSecret: secretKey) == publicKey else {
            throw .invalidArgument("the public key does not belong to the secret key")
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh key pair from libsodium's random source.
    public static func generate() throws(ZeroMQError) -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41), secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else {
            throw ZeroMQError.last("zmq_curve_keypair (is libzmq built with CURVE?)")
        }
        return try CurveKeyPair(publicKey: Z85.string(publicKey), secretKey: Z85.string(secretKey))
    }

    /// The public key that belongs to `secret`.
    public static func publicKey(ofSecret secret: String) throws(ZeroMQError) -> String {
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secret) == 0 else { throw ZeroMQError.last("zmq_curve_public") }
        return Z85.string(publicKey)
    }
}

/// A client's or worker's CURVE settings: the broker's public key and its own pair.
public struct CurveClientKeys: Sendable, Equatable {
    public var serverPublicKey: String
    public var own: CurveKeyPair

    public init(serverPublicKey: String, own: CurveKeyPair) throws(ZeroMQError) {
        try Z85.checkKey(serverPublicKey, what: "broker public key")
        self.serverPublicKey = serverPublicKey
        self.own = own
    }
}

/// ZeroMQ's Z85 text encoding of binary keys (RFC 32).
public enum Z85 {
    static let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    /// A 32-byte key as 40 Z85 characters.
    public static func encode(key: [UInt8]) throws(ZeroMQError) -> String {
        guard key.count == 32 else { throw .invalidArgument("a CURVE key has 32 bytes, got \(key.count)") }
        var text = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&text, key, key.count) != nil else { throw ZeroMQError.last("zmq_z85_encode") }
        return string(text)
    }

    /// 40 Z85 characters as the 32-byte key.
    public static func decode(key: String) throws(ZeroMQError) -> [UInt8] {
        try checkKey(key, what: "key")
        var bytes = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&bytes, key) != nil else { throw ZeroMQError.last("zmq_z85_decode") }
        return bytes
    }

    /// Throws unless `key` is 40 characters of the Z85 alphabet.
    public static func checkKey(_ key: String, what: String) throws(ZeroMQError) {
        guard key.utf8.count == 40, key.utf8.allSatisfy({ alphabet.contains($0) }) else {
            throw .invalidArgument("a CURVE \(what) is 40 Z85 characters, got \(key.utf8.count) characters")
        }
    }

    static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Socket {
    /// Makes this (binding) socket a CURVE server with `secretKey`: every peer must complete a CURVE
    /// handshake, and the process's ZAP handler decides which keys get in.
    public func makeCurveServer(secretKey: String, zapDomain: String) throws(ZeroMQError) {
        try Z85.checkKey(secretKey, what: "secret key")
        try setOption(ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER")
        try setString(ZMQ_CURVE_SECRETKEY, secretKey, "ZMQ_CURVE_SECRETKEY")
        try setString(ZMQ_ZAP_DOMAIN, zapDomain, "ZMQ_ZAP_DOMAIN")
    }

    /// Makes this (connecting) socket a CURVE client of the server with `keys.serverPublicKey`.
    public func makeCurveClient(_ keys: CurveClientKeys) throws(ZeroMQError) {
        try setString(ZMQ_CURVE_SERVERKEY, keys.serverPublicKey, "ZMQ_CURVE_SERVERKEY")
        try setString(ZMQ_CURVE_PUBLICKEY, keys.own.publicKey, "ZMQ_CURVE_PUBLICKEY")
        try setString(ZMQ_CURVE_SECRETKEY, keys.own.secretKey, "ZMQ_CURVE_SECRETKEY")
    }

    /// ZMTP heartbeats: a PING every `intervalMs`; a peer silent for `timeoutMs` is disconnected
    /// (a half-open TCP connection is noticed instead of holding its routing id forever).
    public func setHeartbeats(intervalMs: Int32, timeoutMs: Int32) throws(ZeroMQError) {
        try setOption(ZMQ_HEARTBEAT_IVL, intervalMs, "ZMQ_HEARTBEAT_IVL")
        try setOption(ZMQ_HEARTBEAT_TIMEOUT, timeoutMs, "ZMQ_HEARTBEAT_TIMEOUT")
    }

    func setString(_ option: Int32, _ value: String, _ name: String) throws(ZeroMQError) {
        let h = try open("zmq_setsockopt")
        let bytes = Array(value.utf8)
        if zmq_setsockopt(h, option, bytes, bytes.count) != 0 { throw ZeroMQError.last("zmq_setsockopt(\(name))") }
    }
}
