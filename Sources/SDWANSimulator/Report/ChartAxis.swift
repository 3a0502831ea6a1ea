import Foundation

/// An axis: its data range, how data maps onto pixels, and its ticks.
struct ChartAxis {
    let low: Double
    let high: Double
    let log: Bool
    let ticks: [Double]

    /// A linear axis over the data, widened to "nice" ticks (1, 2, 5 × 10^n steps, about five).
    static func linear(_ values: [Double], fixed: ClosedRange<Double>?) -> ChartAxis {
        var lo = fixed?.lowerBound ?? values.min() ?? 0
        var hi = fixed?.upperBound ?? values.max() ?? 1
        if hi - lo <= 0 {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
            if values.allSatisfy({ $0 >= 0 }) && lo < 0 && fixed == nil { lo = 0 }
        }
        let step = niceStep((hi - lo) / 5)
        if fixed == nil {
            lo = (lo / step).rounded(.down) * step
            hi = (hi / step).rounded(.up) * step
        }
        var ticks: [Double] = []
        let first = (lo / step - 1e-9).rounded(.up)
        var i = 0.0
        while (first + i) * step <= hi + step * 1e-9 {
            let t = (first + i) * step
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            i += 1
        }
        return ChartAxis(low: lo, high: hi, log: false, ticks: ticks)
    }

    /// A log axis over whole decades covering the positive values (at least one decade).
    static func logarithmic(_ values: [Double], fixed: ClosedRange<Double>?) -> ChartAxis {
        let positive = values.filter { $0 > 0 }
        var lo = fixed.map { log10($0.lowerBound) } ?? (positive.min().map { log10($0).rounded(.down) } ?? -4)
        var hi = fixed.map { log10($0.upperBound) } ?? (positive.max().map { log10($0).rounded(.up) } ?? 0)
        if hi <= lo { hi = lo + 1 }
        lo = lo.rounded(.down)
        hi = hi.rounded(.up)
        return ChartAxis(
            low: pow(10, lo),
            high: pow(10, hi),
            log: true,
            ticks: stride(from: lo, through: hi, by: 1).map { pow(10, $0) }
        )
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, log10(raw).rounded(.down))
        let n = raw / magnitude
        return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * magnitude
    }

    /// The fraction of the axis at `value` (0 at `low`, 1 at `high`); log values at or below `low`
    /// sit at 0.
    func fraction(_ value: Double) -> Double {
        if log {
            let v = Swift.max(value, low)
            return (log10(v) - log10(low)) / (log10(high) - log10(low))
        }
        return (value - low) / (high - low)
    }

    /// The value drawn for `value` (a log axis clamps to its bottom).
    func clamped(_ value: Double) -> Double { log ? Swift.max(value, low) : value }
}
