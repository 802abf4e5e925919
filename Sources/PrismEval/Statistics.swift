import Foundation

/// The statistics of the human evaluation: Fleiss' κ and the paired t-test, checked against
/// `statsmodels` and `scipy` in the tests.
public enum Statistics {
    /// Fleiss' κ of a subjects × categories table of counts (each row: how many raters chose each
    /// category for one subject; every row sums to the same number of raters, at least 2).
    public static func fleissKappa(_ table: [[Int]]) -> Double? {
        guard let first = table.first, !first.isEmpty else { return nil }
        let raters = first.reduce(0, +)
        guard raters >= 2, table.allSatisfy({ $0.count == first.count && $0.reduce(0, +) == raters }) else { return nil }
        let n = Double(raters), subjects = Double(table.count)
        var categoryTotals = [Double](repeating: 0, count: first.count)
        var agreement = 0.0
        for row in table {
            var sumSquares = 0.0
            for (j, c) in row.enumerated() {
                categoryTotals[j] += Double(c)
                sumSquares += Double(c * c)
            }
            agreement += (sumSquares - n) / (n * (n - 1))
        }
        let observed = agreement / subjects
        let expected = categoryTotals.reduce(0) { $0 + pow($1 / (subjects * n), 2) }
        guard expected < 1 else { return nil }
        return (observed - expected) / (1 - expected)
    }

    public struct TTest: Sendable, Codable, Equatable {
        public var t: Double
        public var degreesOfFreedom: Int
        /// Two-sided.
        public var p: Double
        public var meanDifference: Double
    }

    /// Paired two-sided t-test of a − b (scipy's `ttest_rel`); nil with fewer than 2 pairs or no variance.
    public static func pairedTTest(_ a: [Double], _ b: [Double]) -> TTest? {
        guard a.count == b.count, a.count >= 2 else { return nil }
        let d = zip(a, b).map { $0 - $1 }
        let n = Double(d.count)
        let mean = d.reduce(0, +) / n
        let variance = d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        guard variance > 0 else { return nil }
        let t = mean / (variance / n).squareRoot()
        let df = d.count - 1
        return TTest(t: t, degreesOfFreedom: df, p: studentTwoSidedP(t, df: Double(df)), meanDifference: mean)
    }

    /// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
    static func studentTwoSidedP(_ t: Double, df: Double) -> Double {
        regularizedIncompleteBeta(df / (df + t * t), a: df / 2, b: 0.5)
    }

    /// I_x(a, b) by the continued fraction (Lentz's method), with the symmetry for x past the mean.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logFront: Double = logGammas + a * log(x) + b * log(1 - x)
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...500 {
            let m = Double(m)
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            f *= d * c
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(logFront) * f / a
    }

    public static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

    public static func median(_ x: [Double]) -> Double {
        guard !x.isEmpty else { return .nan }
        let s = x.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Sample standard deviation (n − 1).
    public static func standardDeviation(_ x: [Double]) -> Double {
        guard x.count >= 2 else { return .nan }
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
    }
}
