import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a loopback port, for tests that must send what no HTTP client would
/// (half a request, a slow trickle) and see exactly what comes back.
final class LoopbackSocket {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`, retrying for `retries` × 100 ms while the server starts.
    init(port: Int, retries: Int = 50, receiveTimeout: TimeInterval = 10) throws {
        for _ in 0..<max(1, retries) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected == 0 {
                var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                self.fd = fd
                return
            }
            close(fd)
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw CocoaError(.fileReadUnknown)
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }
    func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }

    /// Everything until the peer closes (or the receive timeout passes), and whether it closed.
    func readToEnd() -> (bytes: [UInt8], closed: Bool) {
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { return (response, true) }
            if n < 0 { return (response, false) }
            response += buffer[0..<n]
        }
    }
}
