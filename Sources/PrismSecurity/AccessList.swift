import Foundation
import ZeroMQ

/// Which services a key may use: call them (a client key) or register for them (a worker key).
public enum ServiceGrant: Sendable, Equatable {
    case all
    case only(Set<String>)

    public func allows(_ service: String) -> Bool {
        switch self {
        case .all: return true
        case .only(let services): return services.contains(service)
        }
    }
}

/// An allow-list of public keys, read from a file or from every file of a directory. One key per
/// line, then the services it may use (none, or `*`: all of them):
///
///     # ranking services
///     rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7    prism.explain echo
///     JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6    *
///
/// A `.pub` file written by `prism keygen` is such a file (its key, all services), so a directory of
/// them is an allow-list. A key listed twice gets the union of its grants.
public struct AccessList: Sendable, Equatable {
    public private(set) var grants: [String: ServiceGrant] = [:]

    public init(grants: [String: ServiceGrant] = [:]) { self.grants = grants }

    /// Reads `path`: a file, or a directory whose regular files (not hidden ones) are all read.
    public static func read(_ path: String) throws(SecurityError) -> AccessList {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file or directory")
        }
        var list = AccessList()
        if isDirectory.boolValue {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: path).sorted() } catch {
                throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
            }
            for name in names where !name.hasPrefix(".") {
                let file = (path as NSString).appendingPathComponent(name)
                var sub: ObjCBool = false
                guard FileManager.default.fileExists(atPath: file, isDirectory: &sub), !sub.boolValue else { continue }
                try list.add(parsing: KeyFiles.read(file), path: file)
            }
        } else {
            try list.add(parsing: KeyFiles.read(path), path: path)
        }
        return list
    }

    /// Adds the entries of one file's text (`path` names it in errors).
    public mutating func add(parsing text: String, path: String) throws(SecurityError) {
        for (number, line) in KeyFiles.contentLines(text) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let key = words[0]
            if key == "public-key" || key == "secret-key" {
                throw .malformed(path: path, line: number, reason: "this looks like a key pair file; list the .pub file, never a secret key")
            }
            do { try Z85.checkKey(key, what: "public key") } catch {
                throw .malformed(path: path, line: number, reason: "\(error)")
            }
            let services = words.dropFirst()
            let grant: ServiceGrant = services.isEmpty || services.contains("*") ? .all : .only(Set(services))
            grants[key] = Self.union(grants[key], grant)
        }
    }

    public func grant(for key: String) -> ServiceGrant? { grants[key] }

    static func union(_ a: ServiceGrant?, _ b: ServiceGrant) -> ServiceGrant {
        switch (a, b) {
        case (nil, _): return b
        case (.all?, _), (_, .all): return .all
        case (.only(let x)?, .only(let y)): return .only(x.union(y))
        }
    }
}

/// Who may connect to a CURVE broker and what each key may do: clients on the frontend, workers
/// on the backend.
public struct AccessPolicy: Sendable, Equatable {
    /// The ZAP domains the broker gives its two sockets.
    public static let clientDomain = "prism.clients"
    public static let workerDomain = "prism.workers"

    public var clients: AccessList
    public var workers: AccessList

    public init(clients: AccessList, workers: AccessList) {
        self.clients = clients
        self.workers = workers
    }

    /// May a client with `key` call `service`?
    public func mayCall(_ key: String, _ service: String) -> Bool { clients.grant(for: key)?.allows(service) ?? false }

    /// May a worker with `key` register for `service`?
    public func mayServe(_ key: String, _ service: String) -> Bool { workers.grant(for: key)?.allows(service) ?? false }

    /// Is `key` listed for the socket of ZAP `domain`?
    public func admits(_ key: String, domain: String) -> Bool {
        switch domain {
        case Self.clientDomain: return clients.grant(for: key) != nil
        case Self.workerDomain: return workers.grant(for: key) != nil
        default: return false
        }
    }
}
