import SDWANCore

/// A Prometheus histogram with fixed upper bounds (cumulative on output).
struct Histogram {
    let bounds: [Double]
    /// Non-cumulative counts per bucket; the last slot is +Inf.
    private(set) var counts: [UInt64]
    private(set) var sum = 0.0
    private(set) var count: UInt64 = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    mutating func observe(_ value: Double) {
        let slot = bounds.firstIndex { value <= $0 } ?? bounds.count
        counts[slot] &+= 1
        sum += value
        count &+= 1
    }

    /// (le, cumulative count) pairs ending with +Inf.
    var cumulative: [(String, UInt64)] {
        var running: UInt64 = 0
        var out: [(String, UInt64)] = []
        for (i, bound) in bounds.enumerated() {
            running &+= counts[i]
            out.append((MetricsText.number(bound), running))
        }
        out.append(("+Inf", running &+ counts[bounds.count]))
        return out
    }
}

/// Per-link histograms of the path monitor's estimates, sampled once a second: the smoothed RTT
/// and each direction's RFC 3550 jitter, with buckets on the SLA edges (docs/operations.md).
struct LinkHistograms {
    /// Latency buckets (seconds): the SLA edges of the default classes and G.114.
    static let rttBounds = [0.005, 0.01, 0.025, 0.05, 0.065, 0.08, 0.1, 0.15, 0.2, 0.4]
    /// Jitter buckets (seconds).
    static let jitterBounds = [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05]

    var rtt: [Histogram]
    var jitterTx: [Histogram]
    var jitterRx: [Histogram]

    init(links: Int) {
        rtt = Array(repeating: Histogram(bounds: Self.rttBounds), count: links)
        jitterTx = Array(repeating: Histogram(bounds: Self.jitterBounds), count: links)
        jitterRx = Array(repeating: Histogram(bounds: Self.jitterBounds), count: links)
    }

    mutating func observe(_ link: Int, _ quality: LinkQuality) {
        guard let srtt = quality.smoothedRTT else { return }
        rtt[link].observe(srtt.seconds)
        jitterTx[link].observe(quality.forward.jitter.seconds)
        jitterRx[link].observe(quality.reverse.jitter.seconds)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Whether a network interface exists (a USB LTE stick pulled, a PPPoE session gone).
enum InterfaceWatch {
    static func isPresent(_ name: String) -> Bool { if_nametoindex(name) != 0 }
}
