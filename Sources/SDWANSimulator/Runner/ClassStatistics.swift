import SDWANConfig
import SDWANCore

/// What one class carried one way for one branch (a `classes[]` entry of the summary).
final class ClassStatistics {
    let branch: Int
    let classIndex: Int
    let direction: FlowDirection
    var flows: [FlowRecord] = []
    // Updated on every delivery, on one thread: no dynamic exclusivity checks.
    @exclusivity(unchecked) var delays = DelayHistogram()
    @exclusivity(unchecked) var deliveredBytes: UInt64 = 0
    var pathChanges: UInt64 = 0
    /// The class's links at this end the last time we looked (path changes are changes of it).
    var lastChoice: [Int]?

    init(branch: Int, classIndex: Int, direction: FlowDirection) {
        self.branch = branch
        self.classIndex = classIndex
        self.direction = direction
    }
}

/// One-way delays in 0.1 ms buckets up to 10 s (anything above lands in the last bucket; the
/// maximum is kept exactly): p50 and p99 to 0.1 ms without storing every sample.
struct DelayHistogram {
    static let bucket: Int64 = 100_000
    static let buckets = 100_000
    private var counts: [UInt32] = []
    private(set) var count: UInt64 = 0
    private(set) var maximum = TimeSpan.zero

    mutating func record(_ delay: TimeSpan) {
        if counts.isEmpty { counts = [UInt32](repeating: 0, count: Self.buckets) }
        let i = Int(min(max(delay.nanoseconds, 0) / Self.bucket, Int64(Self.buckets - 1)))
        counts[i] &+= 1
        count &+= 1
        maximum = max(maximum, delay)
    }

    /// The `q` quantile: the middle of the first bucket where the cumulative count reaches q·N.
    func quantile(_ q: Double) -> TimeSpan? {
        guard count > 0 else { return nil }
        let target = UInt64((Double(count) * q).rounded(.up))
        var cumulative: UInt64 = 0
        for (i, c) in counts.enumerated() {
            cumulative += UInt64(c)
            if cumulative >= max(target, 1) {
                return TimeSpan(nanoseconds: Int64(i) * Self.bucket + Self.bucket / 2)
            }
        }
        return maximum
    }
}
