import SDWANCore

/// How late the relay sent each datagram after its delivery instant: the emulator's own timing
/// error (timer wake-up, the rest of the batch, send syscalls), kept as a log-linear histogram so
/// percentiles cost no allocation per packet.
///
/// Buckets: 1 µs wide below 64 µs, then 32 buckets per power of two (≤ 3.1 % relative error) up to
/// ~68 s; later samples land in the last bucket.
public struct LatenessHistogram: Sendable {
    private static let linear = 64
    private static let perOctave = 32
    private static let octaves = 20
    private var buckets = [UInt64](repeating: 0, count: linear + perOctave * octaves)
    /// Samples recorded.
    public private(set) var count: UInt64 = 0
    /// Largest lateness seen, in nanoseconds.
    public private(set) var maxNanoseconds: Int64 = 0
    private var sumMicroseconds: Double = 0

    public init() {}

    /// Records one delivery sent `late` after its due instant (negative: counted as 0).
    public mutating func record(_ late: TimeSpan) {
        let ns = max(late.nanoseconds, 0)
        count += 1
        maxNanoseconds = max(maxNanoseconds, ns)
        sumMicroseconds += Double(ns) / 1e3
        buckets[Self.bucket(microseconds: ns / 1_000)] += 1
    }

    /// Mean lateness in microseconds.
    public var meanMicroseconds: Double { count == 0 ? 0 : sumMicroseconds / Double(count) }

    /// The lateness below which a fraction `q` of samples fall, in microseconds (the bucket's upper
    /// edge, so it never understates).
    public func percentileMicroseconds(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let target = UInt64((q * Double(count)).rounded(.up))
        var seen: UInt64 = 0
        for (index, n) in buckets.enumerated() {
            seen += n
            if seen >= max(target, 1) { return Self.upperEdge(index) }
        }
        return Self.upperEdge(buckets.count - 1)
    }

    private static func bucket(microseconds us: Int64) -> Int {
        if us < linear { return Int(us) }
        // us in [64·2^k, 64·2^(k+1)): octave k, sub-bucket by the next 5 bits.
        let log2 = 63 - us.leadingZeroBitCount
        let octave = log2 - 6
        let sub = Int((us >> (log2 - 5)) & 31)
        return min(linear + octave * perOctave + sub, linear + perOctave * octaves - 1)
    }

    private static func upperEdge(_ index: Int) -> Double {
        if index < linear { return Double(index + 1) }
        let octave = (index - linear) / perOctave
        let sub = (index - linear) % perOctave
        let base = Double(linear) * Double(1 << octave)
        return base + base * Double(sub + 1) / Double(perOctave)
    }
}
