/// Passive measurement of one link's reverse direction from every authenticated packet: the
/// container's per-link counter is the sequence number and the sealed `WireTimestamp` the send
/// time (docs/wire-format.md §3–§4), so data traffic is measured as well as probes.
///
/// Tolerant of reordering and duplicates: a missing counter is declared lost only when `maxLateness`
/// (RFC 7680 Tmax) has passed since a higher counter revealed the gap; a packet arriving after that
/// is counted `late` and stays lost (RFC 7680 §2.8.1); a second copy is counted `duplicates` and
/// otherwise ignored. Per packet the work is O(1) and allocation-free.
public struct ReceiveStatistics: Sendable {
    /// Tunables (docs/path-selection.md, "Windows").
    public struct Configuration: Hashable, Sendable {
        /// RFC 7680 Tmax: how long a gap may stay open before its packets count as lost.
        public var maxLateness: TimeSpan = .milliseconds(100)
        /// Counters tracked above the oldest unsettled one (a power of two); a jump past it settles
        /// the rest as lost.
        public var reorderRange: Int = 1024
        /// The short (SLA) time window: 10 × 100 ms.
        public var shortBucket: TimeSpan = .milliseconds(100)
        public var shortBuckets: Int = 10
        /// The long (metrics) time window: 60 × 1 s.
        public var longBucket: TimeSpan = .seconds(1)
        public var longBuckets: Int = 60
        /// The count-based window.
        public var countWindow: Int = 1000
        /// RFC 5481 PDV epoch: the p99 is published per epoch, relative to the minimum delay over
        /// this epoch and the previous one.
        public var pdvEpoch: TimeSpan = .seconds(1)

        public init() {}
    }

    /// PDV histogram resolution and range (100 µs × 4096 ≈ 410 ms; above that, the last bucket).
    static let pdvBucketNanoseconds: Int64 = 100_000
    static let pdvBucketCount = 4096

    public let configuration: Configuration

    // Sequence accounting: slot i holds counter c with c & mask == i: `receivedMark` once c
    // arrived; while it is missing, when its gap was seen (ns), or `outageMark` when the gap is an
    // outage (settled as neither). One array: a packet writes and settles one entry.
    private let mask: UInt64
    private static let outageMark = Int64.min
    private static let receivedMark = Int64.max
    private var slots: [Int64]
    /// The highest counter received, and the sealed timestamp and arrival time of its packet
    /// (echoed in receiver reports).
    public private(set) var highestCounter: UInt64?
    public private(set) var highestTimestamp = WireTimestamp(microseconds: 0)
    public private(set) var highestArrival = Instant.zero
    private var settledUpTo: UInt64 = 0

    /// Cumulative outcomes.
    public private(set) var received: UInt64 = 0
    public private(set) var lost: UInt64 = 0
    public private(set) var late: UInt64 = 0
    public private(set) var duplicates: UInt64 = 0
    /// Outages: silences longer than the detection window that a later packet ended, and the
    /// packets that silence swallowed. Counted here, never in `lost` or the loss windows (see
    /// `record(counter:timestamp:now:endsOutage:)`).
    public private(set) var outages: UInt64 = 0
    public private(set) var outageLost: UInt64 = 0
    /// RFC 3357: number of loss bursts ended so far and the lost packets in them.
    public private(set) var bursts: UInt64 = 0
    public private(set) var burstLost: UInt64 = 0
    private var currentBurst: UInt64 = 0
    /// Windows over settled outcomes.
    public private(set) var shortWindow: LossWindow
    public private(set) var longWindow: LossWindow
    public private(set) var countWindow: CountLossWindow

    /// The last arrival (proof of life of this direction).
    public private(set) var lastArrival: Instant?
    /// Arrivals since `markReported()`.
    public private(set) var arrivalsSinceReport = 0

    // RFC 3550 §6.4.1 jitter, nanoseconds, and the relative transit time for PDV.
    private var jitterNanoseconds: Double = 0
    private var previousArrival: Instant?
    private var previousTimestamp = WireTimestamp(microseconds: 0)
    private var relativeTransit: Int64 = 0
    private var epochStart: Instant?
    private var epochMinimum = Int64.max
    private var previousEpochMinimum = Int64.max
    private var pdvHistogram: [UInt32]
    private var pdvSamples = 0
    /// RFC 5481 PDV p99 of the last complete epoch.
    public private(set) var pdvP99 = TimeSpan.zero

    public init(configuration: Configuration = Configuration()) {
        precondition(
            configuration.reorderRange > 1 && configuration.reorderRange & (configuration.reorderRange - 1) == 0,
            "the reorder range is a power of two, at least 2"
        )
        mask = UInt64(configuration.reorderRange - 1)
        self.configuration = configuration
        slots = [Int64](repeating: 0, count: configuration.reorderRange)
        shortWindow = LossWindow(bucketSpan: configuration.shortBucket, bucketCount: configuration.shortBuckets)
        longWindow = LossWindow(bucketSpan: configuration.longBucket, bucketCount: configuration.longBuckets)
        countWindow = CountLossWindow(capacity: configuration.countWindow)
        pdvHistogram = [UInt32](repeating: 0, count: Self.pdvBucketCount)
    }

    /// RFC 3550 §6.4.1 interarrival jitter J.
    public var jitter: TimeSpan { TimeSpan(nanoseconds: Int64(jitterNanoseconds.rounded())) }

    /// RFC 3357 mean burst length, `nil` before the first burst ended.
    public var meanBurstLength: Double? { bursts > 0 ? Double(burstLost) / Double(bursts) : nil }

    /// Records one authenticated packet with per-link `counter` and sealed `timestamp` at `now`.
    ///
    /// `endsOutage`: the packet ends a silence the monitor declared (longer than its detection
    /// window). The counters it skips were sent during the blackout: an outage, counted in
    /// `outages`/`outageLost` but not as loss. The SLA loss windows judge the link while it works;
    /// a 10 s blackout's ~115 probe packets would otherwise hold an idle link above 1 % loss for the
    /// 60 s window after it returned, and keep it `degraded` long after it recovered (commercial
    /// SD-WANs treat the outage as an outage and fail back after their hold-down). Flapping is
    /// still penalised: by the state machine's recovery run and rate limit, not by loss.
    public mutating func record(counter: UInt64, timestamp: WireTimestamp, now: Instant, endsOutage: Bool = false) {
        let range = UInt64(configuration.reorderRange)
        guard let highest = highestCounter else {
            // A counter space starts at 0 (wire-format §3): counters below the first one seen were
            // lost, as far as they fit in the reorder range.
            highestCounter = counter
            settledUpTo = counter < range ? 0 : counter
            var gap = settledUpTo
            while gap < counter {
                markMissing(gap, outage: endsOutage, now: now)
                gap += 1
            }
            slots[Int(counter & mask)] = Self.receivedMark
            noteArrival(counter: counter, timestamp: timestamp, now: now, isHighest: true)
            settle(now: now)
            return
        }
        if counter > highest {
            if endsOutage && counter > highest + 1 { outages += 1 }
            // A jump beyond the ring settles what would be overwritten: those packets are lost
            // (or, after an outage, the outage's).
            if counter - settledUpTo >= range {
                forceSettle(below: counter - range + 1, outageAbove: endsOutage ? highest : nil, now: now)
            }
            var gap = max(highest + 1, settledUpTo)
            while gap < counter {
                markMissing(gap, outage: endsOutage, now: now)
                gap += 1
            }
            slots[Int(counter & mask)] = Self.receivedMark
            highestCounter = counter
            noteArrival(counter: counter, timestamp: timestamp, now: now, isHighest: true)
        } else if counter >= settledUpTo {
            let slot = Int(counter & mask)
            if slots[slot] == Self.receivedMark {
                duplicates += 1
                return
            }
            slots[slot] = Self.receivedMark
            noteArrival(counter: counter, timestamp: timestamp, now: now, isHighest: false)
        } else {
            // Already settled: a second copy if its slot still says received, otherwise late.
            if highest - counter < range && slots[Int(counter & mask)] == Self.receivedMark {
                duplicates += 1
                return
            }
            late += 1
            noteArrival(counter: counter, timestamp: timestamp, now: now, isHighest: false)
        }
        settle(now: now)
    }

    /// Counter `counter` is missing since `now` (or lost to an outage).
    private mutating func markMissing(_ counter: UInt64, outage: Bool, now: Instant) {
        slots[Int(counter & mask)] = outage ? Self.outageMark : now.nanoseconds
    }

    private mutating func noteArrival(counter: UInt64, timestamp: WireTimestamp, now: Instant, isHighest: Bool) {
        lastArrival = now
        arrivalsSinceReport += 1
        if isHighest {
            highestTimestamp = timestamp
            highestArrival = now
        }
        if let previous = previousArrival {
            // RFC 3550 §6.4.1: D = (Rj − Ri) − (Sj − Si); J ← J + (|D| − J)/16. A constant clock
            // offset cancels, so no clock sync is needed.
            let d = (now - previous).nanoseconds - timestamp.since(previousTimestamp).nanoseconds
            jitterNanoseconds += (Double(abs(d)) - jitterNanoseconds) / 16
            relativeTransit &+= d
        }
        previousArrival = now
        previousTimestamp = timestamp
        recordDelay(now: now)
    }

    /// RFC 5481 §4.2 PDV: delay minus the minimum delay in the window (this epoch and the last).
    private mutating func recordDelay(now: Instant) {
        rollEpoch(now: now)
        epochMinimum = min(epochMinimum, relativeTransit)
        let reference = min(epochMinimum, previousEpochMinimum)
        let bucket = min(Int((relativeTransit - reference) / Self.pdvBucketNanoseconds), Self.pdvBucketCount - 1)
        pdvHistogram[bucket] &+= 1
        pdvSamples += 1
    }

    private mutating func rollEpoch(now: Instant) {
        guard let start = epochStart else {
            epochStart = now
            return
        }
        guard now - start >= configuration.pdvEpoch else { return }
        if pdvSamples > 0 {
            let rank = (pdvSamples * 99 + 99) / 100
            var seen = 0
            for (bucket, count) in pdvHistogram.enumerated() {
                seen += Int(count)
                if seen >= rank {
                    pdvP99 = TimeSpan(nanoseconds: Int64(bucket + 1) * Self.pdvBucketNanoseconds)
                    break
                }
            }
            for i in 0..<pdvHistogram.count { pdvHistogram[i] = 0 }
        }
        pdvSamples = 0
        previousEpochMinimum = epochMinimum
        epochMinimum = Int64.max
        let epochs = (now - start).nanoseconds / configuration.pdvEpoch.nanoseconds
        epochStart = start + configuration.pdvEpoch * epochs
    }

    /// Settles every counter whose fate is known by `now`: received ones at once, missing ones
    /// once Tmax has passed since their gap was seen (RFC 7680).
    public mutating func settle(now: Instant) {
        guard let highest = highestCounter else { return }
        let tmax = configuration.maxLateness.nanoseconds
        while settledUpTo <= highest {
            let entry = slots[Int(settledUpTo & mask)]
            if entry == Self.receivedMark {
                settleOne(lost: false, now: now)
            } else if entry == Self.outageMark {
                outageLost += 1
            } else if now.nanoseconds - entry >= tmax {
                settleOne(lost: true, now: now)
            } else {
                break
            }
            settledUpTo += 1
        }
    }

    /// Whether `advanceWindows(to: now)` would change anything.
    public func windowsWouldSlide(at now: Instant) -> Bool {
        shortWindow.wouldSlide(at: now) || longWindow.wouldSlide(at: now)
    }

    /// Slides the loss windows to `now` (outcomes added later slide them too).
    public mutating func advanceWindows(to now: Instant) {
        shortWindow.advance(to: now)
        longWindow.advance(to: now)
    }

    /// Settles every counter below `limit`; those above `outageAbove` (the highest counter before
    /// an outage) are the outage's.
    private mutating func forceSettle(below limit: UInt64, outageAbove: UInt64?, now: Instant) {
        while settledUpTo < limit {
            let entry = slots[Int(settledUpTo & mask)]
            let isReceived = settledUpTo <= (highestCounter ?? 0) && entry == Self.receivedMark
            if let last = outageAbove, settledUpTo > last {
                outageLost += 1
            } else if !isReceived && settledUpTo <= (highestCounter ?? 0) && entry == Self.outageMark {
                outageLost += 1
            } else {
                settleOne(lost: !isReceived, now: now)
            }
            settledUpTo += 1
        }
    }

    private mutating func settleOne(lost isLost: Bool, now: Instant) {
        if isLost {
            lost += 1
            currentBurst += 1
        } else {
            received += 1
            if currentBurst > 0 {
                // RFC 3357 §5.2: a burst ends at the next received packet.
                bursts += 1
                burstLost += currentBurst
                currentBurst = 0
            }
        }
        shortWindow.add(received: isLost ? 0 : 1, lost: isLost ? 1 : 0, at: now)
        longWindow.add(received: isLost ? 0 : 1, lost: isLost ? 1 : 0, at: now)
        countWindow.add(lost: isLost)
    }

    /// When the oldest open gap will be settled as lost, `nil` if none is open.
    public var nextSettleDeadline: Instant? {
        guard let highest = highestCounter, settledUpTo <= highest else { return nil }
        let entry = slots[Int(settledUpTo & mask)]
        guard entry != Self.receivedMark, entry != Self.outageMark else { return nil }
        return Instant(nanoseconds: entry) + configuration.maxLateness
    }

    /// Starts a new count of arrivals for the next report.
    public mutating func markReported() { arrivalsSinceReport = 0 }

    /// The counter space restarted (rekey): forget the sequence state, keep the cumulative counts.
    public mutating func resetCounterSpace() {
        highestCounter = nil
        currentBurst = 0
    }
}
