import NIOCore

/// Per-flow reordering with a bounded hold (docs/path-selection.md, "Balance and reorder").
///
/// A class striped over links of different delay delivers a flow's packets out of order; TCP reads
/// that as loss. Each flow (a hash bucket of its 5-tuple) has its own expected sequence number and
/// its own small hold: a packet ahead of a gap waits at most `hold` for the gap to fill, then the
/// gap is skipped. Flows never wait for each other (MLVPN's single global buffer stalls everything
/// behind one lost packet): a loss in flow B adds no hold to flow A. A packet that arrives after
/// its gap was skipped is late: delivered or dropped as the class says, and counted either way.
/// Memory is bounded: at most `maxHeld` packets wait in all flows together; past that the flow
/// waiting longest is released at once.
public struct FlowReorder: Sendable {
    struct Held: Sendable {
        var sequence: UInt32
        var packet: ByteBuffer
        var recovered: Bool
    }

    struct Flow: Sendable {
        var expected: UInt32?
        var held: [Held] = []
        var holdingSince: Instant?
    }

    public struct Counters: Hashable, Sendable {
        /// Packets that waited for an earlier one.
        public var held: UInt64 = 0
        /// Gaps given up on when the hold ran out.
        public var holdTimeouts: UInt64 = 0
        /// Packets that arrived after their gap was skipped.
        public var late: UInt64 = 0
        /// Late packets dropped (classes that drop rather than deliver late packets).
        public var lateDropped: UInt64 = 0
        /// Flows released early because the held total hit its bound.
        public var forcedReleases: UInt64 = 0
        /// The longest any packet waited.
        public var longestHold: TimeSpan = .zero

        public init() {}
    }

    public static let flowBuckets = 1_024
    private var flows: [Flow]
    /// The flows whose `holdingSince` is set, oldest hold first (a hold starts, or starts again, at
    /// the latest `now`, and goes to the end): deadlines and timeouts look at these few instead of
    /// scanning all 1 024 buckets, and the earliest deadline is the first one's.
    private var holdingFlows: [Int] = []
    private var heldTotal = 0
    public let maxHeld: Int
    public let deliverLate: Bool
    public private(set) var counters = Counters()

    public init(maxHeld: Int = 4_096, deliverLate: Bool = true) {
        flows = [Flow](repeating: Flow(), count: Self.flowBuckets)
        self.maxHeld = maxHeld
        self.deliverLate = deliverLate
    }

    /// Hands a packet of flow `flowID` with flow sequence `sequence` to the stage; `deliver` is
    /// called for every packet that may go to the local side now, in order.
    public mutating func receive(
        flowID: UInt16,
        sequence: UInt32,
        packet: consuming ByteBuffer,
        recovered: Bool,
        now: Instant,
        deliver: (consuming ByteBuffer, Bool) -> Void
    ) {
        let f = Int(flowID) % Self.flowBuckets
        guard let expected = flows[f].expected else {
            flows[f].expected = sequence &+ 1
            deliver(consume packet, recovered)
            return
        }
        let distance = Int32(bitPattern: sequence &- expected)
        if distance < 0 {
            counters.late &+= 1
            if deliverLate { deliver(consume packet, recovered) } else { counters.lateDropped &+= 1 }
            return
        }
        if distance == 0 {
            flows[f].expected = sequence &+ 1
            deliver(consume packet, recovered)
            // Most in-order packets find nothing held behind them (the call retained and released
            // for every packet).
            if !flows[f].held.isEmpty { release(f, now: now, deliver: deliver) }
            return
        }
        // Ahead of a gap: wait, in sequence order.
        let index = flows[f].held.firstIndex { Int32(bitPattern: $0.sequence &- sequence) >= 0 } ?? flows[f].held.count
        if index < flows[f].held.count && flows[f].held[index].sequence == sequence { return }  // a copy
        flows[f].held.insert(Held(sequence: sequence, packet: consume packet, recovered: recovered), at: index)
        heldTotal += 1
        counters.held &+= 1
        if flows[f].holdingSince == nil { setHolding(f, since: now) }
        if heldTotal > maxHeld, let oldest = oldestHoldingFlow() {
            counters.forcedReleases &+= 1
            skipGap(oldest, now: now, deliver: deliver)
        }
    }

    /// Skips the gaps whose hold ran out at `now`.
    public mutating func handleTimeout(now: Instant, hold: TimeSpan, deliver: (consuming ByteBuffer, Bool) -> Void) {
        guard heldTotal > 0 else { return }
        // In ascending flow order (the order deliveries come out in), each flow at most once.
        var last = -1
        while true {
            var next = Int.max
            for f in holdingFlows where f > last && f < next {
                if let since = flows[f].holdingSince, now - since >= hold { next = f }
            }
            guard next != Int.max else { return }
            counters.holdTimeouts &+= 1
            skipGap(next, now: now, deliver: deliver)
            last = next
        }
    }

    /// The earliest instant a hold runs out.
    public func nextDeadline(hold: TimeSpan) -> Instant? {
        guard heldTotal > 0, let f = holdingFlows.first else { return nil }
        return flows[f].holdingSince.map { $0 + hold }
    }

    /// Packets waiting in all flows.
    public var heldCount: Int { heldTotal }

    /// Gives up on the gap in front of flow `f`'s first held packet and delivers what follows it.
    private mutating func skipGap(_ f: Int, now: Instant, deliver: (consuming ByteBuffer, Bool) -> Void) {
        guard let first = flows[f].held.first else { return }
        flows[f].expected = first.sequence
        release(f, now: now, deliver: deliver)
    }

    /// Delivers the held packets that are now in order; re-arms or clears the flow's hold.
    private mutating func release(_ f: Int, now: Instant, deliver: (consuming ByteBuffer, Bool) -> Void) {
        var delivered = 0
        while delivered < flows[f].held.count, flows[f].held[delivered].sequence == flows[f].expected {
            deliver(flows[f].held[delivered].packet, flows[f].held[delivered].recovered)
            flows[f].expected = flows[f].held[delivered].sequence &+ 1
            delivered += 1
        }
        if delivered > 0 {
            if let since = flows[f].holdingSince { counters.longestHold = max(counters.longestHold, now - since) }
            flows[f].held.removeFirst(delivered)
            heldTotal -= delivered
            setHolding(f, since: flows[f].held.isEmpty ? nil : now)
        }
    }

    /// The flow holding longest; the lowest flow index among equals.
    private func oldestHoldingFlow() -> Int? {
        var best: (index: Int, since: Instant)?
        for f in holdingFlows {
            guard let since = flows[f].holdingSince else { continue }
            if best == nil || since < best!.since || (since == best!.since && f < best!.index) { best = (f, since) }
        }
        return best?.index
    }

    /// Sets or clears flow `f`'s hold start (`since` is the current instant, no earlier than any
    /// hold start so far), keeping `holdingFlows` in step and in order.
    private mutating func setHolding(_ f: Int, since: Instant?) {
        if flows[f].holdingSince != nil, let i = holdingFlows.firstIndex(of: f) { holdingFlows.remove(at: i) }
        flows[f].holdingSince = since
        if since != nil { holdingFlows.append(f) }
    }
}
