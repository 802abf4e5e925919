import Foundation
import PrismWire

#if canImport(Glibc)
import Glibc
#endif

/// Progress of a long run: a bar with rate and ETA on a terminal, a plain line every few
/// seconds otherwise (logs, CI). Writes to standard error.
public final class ProgressReporter: @unchecked Sendable {
    public enum Style: Sendable { case auto, bar, lines, none }

    let total: Int
    let style: Style
    var done = 0
    let start = monotonicNs()
    var lastDraw: UInt64 = 0

    public init(total: Int, style: Style = .auto) {
        self.total = total
        switch style {
        case .auto: self.style = isatty(2) == 1 ? .bar : .lines
        default: self.style = style
        }
    }

    public func advance(by count: Int) {
        done += count
        let now = monotonicNs()
        let interval: UInt64 = style == .bar ? 100_000_000 : 5_000_000_000
        if now - lastDraw >= interval || done >= total {
            lastDraw = now
            draw(now: now)
        }
    }

    public func finish() {
        if style == .bar { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func draw(now: UInt64) {
        let seconds = max(1e-9, Double(now - start) / 1e9)
        let rate = Double(done) / seconds
        let eta = rate > 0 ? Double(max(0, total - done)) / rate : 0
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let numbers = String(format: "%d/%d %3.0f%%  %.1f/s  ETA %@", done, total, fraction * 100, rate, Self.clock(eta) as NSString)
        switch style {
        case .bar:
            let width = 30, filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(numbers)  ".utf8))
        case .lines:
            FileHandle.standardError.write(Data("progress \(numbers)\n".utf8))
        case .none, .auto:
            break
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
