/// Parses the date forms found in datasets into Unix seconds (UTC):
/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`, and ISO 8601 `YYYY-MM-DDTHH:MM[:SS][.fff][Z|±HH:MM]`.
///
/// Returns nil for anything else. Locale- and time-zone-independent (no Foundation formatters).
public func parseDateTime(_ text: String) -> Int64? {
    let b = Array(text.utf8)
    func num(_ from: Int, _ len: Int) -> Int? {
        guard from + len <= b.count else { return nil }
        var v = 0
        for i in from..<(from + len) {
            let d = b[i]
            guard d >= 0x30 && d <= 0x39 else { return nil }
            v = v * 10 + Int(d - 0x30)
        }
        return v
    }
    guard b.count >= 10, b[4] == 0x2D, b[7] == 0x2D,
          let year = num(0, 4), let month = num(5, 2), let day = num(8, 2),
          (1...12).contains(month), (1...31).contains(day) else { return nil }
    var seconds = 0
    var i = 10
    if i < b.count {
        guard b[i] == 0x20 || b[i] == 0x54, let h = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 0x3A,
              let m = num(i + 4, 2), h < 24, m < 60 else { return nil }
        seconds = h * 3600 + m * 60
        i += 6
        if i < b.count, b[i] == 0x3A {
            guard let s = num(i + 1, 2), s < 61 else { return nil }
            seconds += s
            i += 3
        }
        if i < b.count, b[i] == 0x2E {  // fractional seconds: ignored
            i += 1
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
        }
        if i < b.count {
            if b[i] == 0x5A {
                i += 1
            } else if b[i] == 0x2B || b[i] == 0x2D {
                let sign = b[i] == 0x2B ? 1 : -1
                guard let oh = num(i + 1, 2) else { return nil }
                var om = 0
                var j = i + 3
                if j < b.count, b[j] == 0x3A { j += 1 }
                if j < b.count { guard let v = num(j, 2) else { return nil }; om = v; j += 2 }
                seconds -= sign * (oh * 3600 + om * 60)
                i = j
            }
        }
        guard i == b.count else { return nil }
    }
    return Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400 + Int64(seconds)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm, re-derived).
func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}
