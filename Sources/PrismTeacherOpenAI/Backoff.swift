import Foundation

/// Exponential back-off with optional full jitter, and the server's `Retry-After`.
struct Backoff: Sendable {
    var initial: Duration
    var maximum: Duration
    var jitter: OpenAIConfiguration.Jitter
    var random: @Sendable () -> Double

    init(_ configuration: OpenAIConfiguration) {
        initial = configuration.initialBackoff
        maximum = configuration.maxBackoff
        jitter = configuration.jitter
        random = configuration.random
    }

    /// The ceiling before retry number `retry` (0: the first retry): initial · 2^retry, capped.
    func ceiling(retry: Int) -> Duration {
        let factor = pow(2.0, Double(min(max(retry, 0), 62)))
        return .seconds(min(maximum.seconds, initial.seconds * factor))
    }

    /// The pause before retry number `retry`. A server's `Retry-After` wins over the computed
    /// back-off (it knows when it will have room), but is capped by the maximum back-off too.
    func delay(retry: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return min(max(retryAfter, .zero), maximum) }
        let ceiling = ceiling(retry: retry)
        switch jitter {
        case .none:
            return ceiling
        case .full:
            let u = random()
            let unit = u.isFinite ? min(max(u, 0), 1) : 0
            return .seconds(ceiling.seconds * unit)
        }
    }
}

/// `Retry-After`: delay-seconds ("120", fractional accepted) or an HTTP-date (IMF-fixdate
/// "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT", or asctime
/// "Sun Nov  6 08:49:37 1994"), relative to `now`. A date in the past is zero; nil when unparsable.
func parseRetryAfter(_ value: String, now: Date = Date()) -> Duration? {
    let text = value.trimmingCharacters(in: .whitespaces)
    if text.isEmpty { return nil }
    if text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
        guard let seconds = Double(text), seconds.isFinite, seconds >= 0 else { return nil }
        return .seconds(min(seconds, 1e9))
    }
    guard let date = parseHTTPDate(text) else { return nil }
    return .seconds(max(0, date.timeIntervalSince(now)))
}

private let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

/// The three HTTP-date formats of RFC 9110 §5.6.7, always GMT.
func parseHTTPDate(_ text: String) -> Date? {
    let fields = text.split(whereSeparator: { $0 == " " || $0 == "," }).map { $0.lowercased() }
    var day: Int?, month: Int?, year: Int?, clock: String?
    if fields.count == 6, fields[5] == "gmt" {
        // IMF-fixdate: [dayname, dd, mon, yyyy, hh:mm:ss, gmt]
        day = Int(fields[1]); month = monthNames.firstIndex(of: fields[2]).map { $0 + 1 }; year = Int(fields[3]); clock = fields[4]
    } else if fields.count == 4, fields[3] == "gmt" {
        // RFC 850: [dayname, dd-mon-yy, hh:mm:ss, gmt]
        let parts = fields[1].split(separator: "-").map(String.init)
        if parts.count == 3, let yy = Int(parts[2]) {
            day = Int(parts[0]); month = monthNames.firstIndex(of: parts[1]).map { $0 + 1 }
            year = parts[2].count == 2 ? (yy < 70 ? 2000 + yy : 1900 + yy) : yy
        }
        clock = fields[2]
    } else if fields.count == 5 {
        // asctime: [dayname, mon, d, hh:mm:ss, yyyy]
        month = monthNames.firstIndex(of: fields[1]).map { $0 + 1 }; day = Int(fields[2]); clock = fields[3]; year = Int(fields[4])
    }
    guard let day, let month, let year, let clock, (1...31).contains(day), year >= 1970 else { return nil }
    let hms = clock.split(separator: ":").compactMap { Int($0) }
    guard hms.count == 3, (0...23).contains(hms[0]), (0...59).contains(hms[1]), (0...60).contains(hms[2]) else { return nil }
    let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + hms[0] * 3_600 + hms[1] * 60 + hms[2]
    return Date(timeIntervalSince1970: TimeInterval(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}
