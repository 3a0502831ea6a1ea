import SDWANConfig
import SDWANCore

/// One direction of one flow: what it sent and what arrived, by sequence number.
final class FlowRecord {
    enum Source: Equatable {
        case constantRate(interval: TimeSpan)
        /// The request half of a transaction flow; `responses` is the flow id of its down half.
        case transactionRequests(meanInterval: TimeSpan, packets: Int, responses: Int)
        /// The response half: sends when a request's last packet arrives.
        case transactionResponses(packets: Int)
        /// A bulk flow; its window is `bulkWindow` (a payload here was copied, array and all,
        /// each time a delivery or tick switched over the source).
        case bulk
    }

    let id: Int
    let kind: String
    let branch: Int
    /// `.up` or `.down`.
    let direction: FlowDirection
    let size: Int
    let dscp: UInt8
    let ipProtocol: UInt8
    let port: UInt16
    let start: Instant
    let stop: Instant
    // Touched on every packet of the flow, on one thread: no dynamic exclusivity checks.
    @exclusivity(unchecked) var source: Source
    /// A bulk flow's window, kept out of `source` so it is changed in place (taking it out of the
    /// enum and putting it back copied it on every packet and acknowledgement); `nil` for the others.
    @exclusivity(unchecked) private var bulkWindow: AIMDWindow?
    var classIndex = 0
    var entry = 0
    @exclusivity(unchecked) var random: SeededRandomSource
    /// The next tick this flow is waiting for (stale ticks are ignored).
    @exclusivity(unchecked) var nextTick: Instant?

    @exclusivity(unchecked) private(set) var sent: UInt32 = 0
    @exclusivity(unchecked) private var seen: [UInt64] = []
    @exclusivity(unchecked) private(set) var delivered: UInt64 = 0
    @exclusivity(unchecked) private var lastDelivery: Instant?
    @exclusivity(unchecked) private(set) var longestGap: TimeSpan = .zero

    init(
        id: Int,
        kind: String,
        branch: Int,
        direction: FlowDirection,
        size: Int,
        spec: TrafficFlowSpec,
        start: Instant,
        stop: Instant,
        source: Source,
        bulkWindow: AIMDWindow? = nil,
        random: SeededRandomSource
    ) {
        precondition((bulkWindow != nil) == (source == .bulk), "a bulk flow, and only one, has a window")
        self.id = id
        self.kind = kind
        self.branch = branch
        self.direction = direction
        self.size = size
        self.dscp = spec.dscp
        self.ipProtocol = spec.ipProtocol
        self.port = spec.port
        self.start = start
        self.stop = stop
        self.source = source
        self.bulkWindow = bulkWindow
        self.random = random
    }

    /// Runs `body` on a bulk flow's window in place (`nil` for other flows).
    func withBulkWindow<R>(_ body: (inout AIMDWindow) -> R) -> R? {
        // The kind, not the optional: testing `bulkWindow` copied the window, array and all.
        guard source == .bulk else { return nil }
        return body(&bulkWindow!)
    }

    /// The sequence number for the next packet (counts it as sent).
    func nextSequence() -> UInt32 {
        defer { sent &+= 1 }
        return sent
    }

    /// Records a delivery; returns `false` for a copy already delivered (a leak past dedupe).
    func recordDelivery(_ sequence: UInt32, at now: Instant) -> Bool {
        let word = Int(sequence >> 6)
        while seen.count <= word { seen.append(0) }
        let bit = UInt64(1) << UInt64(sequence & 63)
        guard seen[word] & bit == 0 else { return false }
        seen[word] |= bit
        delivered &+= 1
        if let lastDelivery { longestGap = max(longestGap, now - lastDelivery) }
        lastDelivery = now
        return true
    }

    /// Runs of consecutive lost sequence numbers among those sent: (number of runs, packets lost).
    func lossRuns() -> (runs: UInt64, lost: UInt64) {
        var runs: UInt64 = 0
        var lost: UInt64 = 0
        var inRun = false
        for s in 0..<Int(sent) {
            let word = s >> 6
            let got = word < seen.count && seen[word] & (UInt64(1) << UInt64(s & 63)) != 0
            if got {
                inRun = false
            } else {
                lost += 1
                if !inRun { runs += 1 }
                inRun = true
            }
        }
        return (runs, lost)
    }
}

/// A TCP-like AIMD sender (docs/simulator.md, "Bulk"): window W in packets, +1/W per
/// acknowledgement up to `maxWindow`, halved (not below 2) on a loss at most once per smoothed
/// RTT; a packet unacknowledged after RTO = max(200 ms, SRTT + 4·RTTVAR) (RFC 6298) is lost.
/// Losses are not retransmitted: the simulator measures the tunnel, not TCP's reliability.
struct AIMDWindow {
    var window = 10.0
    let maxWindow: Double
    let paceInterval: TimeSpan
    var srtt: TimeSpan?
    var rttvar = TimeSpan.zero
    var recoveryUntil = Instant.zero
    /// Sent and not yet swept (acknowledged at the head, or declared lost), oldest first:
    /// (sequence, sent at, acknowledged). A flow's sequences are consecutive, so an
    /// acknowledgement finds its entry by offset from the head (a `Set` of acknowledged sequences
    /// hashed on every packet).
    var outstanding: [(sequence: UInt32, sentAt: Instant, acked: Bool)] = []
    var head = 0
    /// Entries from `head` on that are acknowledged but not yet swept.
    var ackedCount = 0
    var lastSend = Instant(nanoseconds: Int64.min / 2)
    var losses: UInt64 = 0

    init(maxWindow: Int, paceInterval: TimeSpan) {
        self.maxWindow = Double(maxWindow)
        self.paceInterval = paceInterval
    }

    var inFlight: Int { outstanding.count - head - ackedCount }
    var rto: TimeSpan { max(.milliseconds(200), (srtt ?? .milliseconds(500)) + rttvar * 4) }

    mutating func sent(_ sequence: UInt32, at now: Instant) {
        outstanding.append((sequence, now, false))
        lastSend = now
    }

    /// An acknowledgement of `sequence`, sent at `sentAt`.
    mutating func acknowledge(_ sequence: UInt32, sentAt: Instant, now: Instant) {
        guard head < outstanding.count, sequence >= outstanding[head].sequence else {
            return  // late: already declared lost
        }
        let index = head + Int(sequence - outstanding[head].sequence)
        guard index < outstanding.count, outstanding[index].sequence == sequence, !outstanding[index].acked else {
            return  // a second copy, or not a sequence of this window
        }
        outstanding[index].acked = true
        ackedCount += 1
        let sample = now - sentAt
        if let s = srtt {
            // RFC 6298 §2.3: RTTVAR first, with the old SRTT.
            rttvar = rttvar * 3 / 4 + TimeSpan(nanoseconds: abs((s - sample).nanoseconds)) / 4
            srtt = s * 7 / 8 + sample / 8
        } else {
            srtt = sample
            rttvar = sample / 2
        }
        window = min(maxWindow, window + 1 / window)
        sweep(now: now)
    }

    /// Drops acknowledged entries from the head and declares timed-out ones lost.
    mutating func sweep(now: Instant) {
        while head < outstanding.count {
            let first = outstanding[head]
            if first.acked {
                ackedCount -= 1
                head += 1
            } else if now - first.sentAt >= rto {
                head += 1
                losses += 1
                if now >= recoveryUntil {
                    window = max(2, window / 2)
                    recoveryUntil = now + (srtt ?? .milliseconds(200))
                }
            } else {
                break
            }
        }
        if head > 4_096 {
            outstanding.removeFirst(head)
            head = 0
        }
    }

    /// When the oldest outstanding packet times out.
    var nextTimeout: Instant? { head < outstanding.count ? outstanding[head].sentAt + rto : nil }
}
