import Foundation
import ZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CURVE key files as `prism keygen` writes them: `NAME.key` holds the pair (mode 0600) and
/// `NAME.pub` only the public key, ready to be listed in a broker's allow-list.
///
///     # prism CURVE key pair (Z85); keep this file secret
///     public-key <40 characters>
///     secret-key <40 characters>
public enum KeyFiles {
    /// Writes `prefix.key` and `prefix.pub`; refuses to replace existing files unless `force`.
    public static func write(_ pair: CurveKeyPair, prefix: String, force: Bool = false) throws(SecurityError) {
        let secretPath = prefix + ".key", publicPath = prefix + ".pub"
        for path in [secretPath, publicPath] where !force && FileManager.default.fileExists(atPath: path) {
            throw .exists(path: path)
        }
        let secret = "# prism CURVE key pair (Z85); keep this file secret\npublic-key \(pair.publicKey)\nsecret-key \(pair.secretKey)\n"
        let name = URL(fileURLWithPath: prefix).lastPathComponent
        let pub = "# prism CURVE public key of \(name): list it in the broker's --client-keys or --worker-keys,\n"
            + "# followed by the services it may use (none: all)\n\(pair.publicKey)\n"
        try writeFile(secretPath, secret, mode: 0o600)
        try writeFile(publicPath, pub, mode: 0o644)
    }

    /// Reads a key pair file. Others may have no access to it and its group may not write it (a group
    /// may read: Kubernetes mounts secrets for non-root containers group-readable with `fsGroup`).
    public static func readPair(_ path: String) throws(SecurityError) -> CurveKeyPair {
        let text = try read(path)
        if let mode = try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber,
           mode.uint16Value & 0o027 != 0 {
            throw .unsafePermissions(path: path, mode: mode.uint16Value & 0o777)
        }
        var publicKey: String?, secretKey: String?
        for (number, line) in contentLines(text) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 else { throw .malformed(path: path, line: number, reason: "expected 'public-key KEY' or 'secret-key KEY'") }
            switch parts[0] {
            case "public-key": publicKey = String(parts[1])
            case "secret-key": secretKey = String(parts[1])
            default: throw .malformed(path: path, line: number, reason: "unknown entry '\(parts[0])'")
            }
        }
        guard let secretKey else { throw .malformed(path: path, line: 0, reason: "no secret-key line (is this a .pub file?)") }
        do throws(ZeroMQError) {
            let derived = try CurveKeyPair.publicKey(ofSecret: secretKey)
            return try CurveKeyPair(publicKey: publicKey ?? derived, secretKey: secretKey)
        } catch {
            throw .key(error)
        }
    }

    /// Reads a public key: a `.pub` file (the first key line) or a key pair file (its public key).
    public static func readPublicKey(_ path: String) throws(SecurityError) -> String {
        let text = try read(path)
        for (number, line) in contentLines(text) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            let key = parts.first == "public-key" && parts.count == 2 ? String(parts[1]) : String(parts[0])
            do { try Z85.checkKey(key, what: "public key") } catch { throw .malformed(path: path, line: number, reason: "\(error)") }
            return key
        }
        throw .malformed(path: path, line: 0, reason: "no public key in the file")
    }

    static func read(_ path: String) throws(SecurityError) -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
    }

    /// The file's lines that are not blank or comments, with their 1-based numbers, trimmed. A comment is
    /// a whole line that is `#` or starts with `# ` (a Z85 key may start with `#` but never holds a space).
    static func contentLines(_ text: String) -> [(Int, String)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, raw in
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty || trimmed == "#" || trimmed.hasPrefix("# ") ? nil : (index + 1, trimmed)
        }
    }

    static func writeFile(_ path: String, _ text: String, mode: Int) throws(SecurityError) {
        // Created with the final mode, so a secret is never on disk with wider permissions.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode_t(mode))
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        _ = fchmod(fd, mode_t(mode))
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw .unreadable(path: path, reason: "short write")
        }
    }
}
