import Foundation
import NIOCore
import SDWANCore
import SDWANLinkModel

/// Two `PathMonitor`s joined by a modelled link, in virtual time (quinn-proto's `tests/util.rs`
/// `Pair`): time jumps to the next arrival, data send or monitor deadline. Each direction has a
/// one-way delay, an optional jitter, a `LossProcess` and optional blackout windows. Side 0 is the
/// edge, side 1 the hub. Packets carry only what the monitor sees: the per-link counter, the sealed
/// timestamp and, when the monitor asked for them, its frames.
struct MonitorPair {
    struct Direction {
        var delay: TimeSpan
        /// Uniform extra delay in [0, jitter].
        var jitter: TimeSpan = .zero
        /// Exponential extra delay with this mean (used instead of `jitter` when non-zero).
        var exponentialJitterMean: TimeSpan = .zero
        var loss = LossProcess(model: .none)
        /// Packets sent inside one of these spans are dropped.
        var blackouts: [Range<Instant>] = []
        /// Data packets per second sent this way (0: idle).
        var dataRate: Int64 = 0
        var sent = 0
        var dropped = 0
        /// The last sends (time, lost) for debugging, newest last, when `keepTrace` is set.
        var keepTrace = false
        var trace: [(Instant, Bool)] = []
    }

    struct Packet {
        var time: Int64
        var order: Int
        var to: Int
        var counter: UInt64
        var timestamp: WireTimestamp
        var frames: ByteBuffer?
    }

    /// The edge's (side 0) and the hub's (side 1) monitors. Kept as two stored properties, not an
    /// array: a non-mutating call through an array subscript copies the whole monitor.
    var edge: PathMonitor
    var hub: PathMonitor
    var monitors: [PathMonitor] { [edge, hub] }
    var directions: [Direction]
    var now: Instant
    var events: [[LinkEvent]] = [[], []]
    var onEvent: ((Int, LinkEvent) -> Void)?
    /// Drains where `hasFrameDue(now:)` said nothing was due but `pollFrame` then wrote a frame,
    /// and drains where a frame was written (so the check is not vacuous).
    var frameDueMisses = 0
    var drainsWithFrames = 0
    /// Timeouts besides the monitors' own deadlines, every this much time on both sides (a live
    /// node's timer also fires for its other components); `nil`: none.
    var extraTimeouts: TimeSpan?
    /// Skip an extra timeout where the monitor says it is idle (`isIdle(at:)`), as the engine does.
    var skipIdleTimeouts = false
    /// Extra timeouts skipped as idle, and extra timeouts run (on both sides).
    var idleTimeoutsSkipped = 0
    var extraTimeoutsRun = 0
    private var nextExtraTimeout: Instant?
    private var counters: [UInt64] = [0, 0]
    private var nextData: [Instant]
    private var deadlines: [Instant?] = [nil, nil]
    private var heap: [Entry] = []
    // Directions without jitter deliver in send order: a FIFO per direction instead of the heap.
    private var fifo: [[Packet]] = [[], []]
    private var fifoHead = [0, 0]
    private var slots: [Packet?] = []
    private var freeSlots: [Int] = []
    private var order = 0
    private var random: SeededRandomSource
    private var lossRandom: [SeededRandomSource]
    private let allocator = ByteBufferAllocator()
    private var scratch = ByteBufferAllocator().buffer(capacity: 256)

    init(
        seed: UInt64,
        configuration: PathMonitorConfiguration = PathMonitorConfiguration(),
        edgeToHub: Direction,
        hubToEdge: Direction,
        start: Instant = .zero
    ) {
        now = start
        edge = PathMonitor(configuration: configuration, now: start)
        hub = PathMonitor(configuration: configuration, now: start)
        directions = [edgeToHub, hubToEdge]
        let base = SeededRandomSource(seed: seed)
        random = base.derived(1)
        lossRandom = [base.derived(2), base.derived(3)]
        // Data streams start at a random phase so the two directions are not in lockstep.
        nextData = [start + .microseconds(137), start + .microseconds(9_731)]
        for side in 0..<2 { drain(side) }
    }

    /// Runs until virtual time `end`.
    mutating func run(until end: Instant) {
        while true {
            var t = end
            var kind = 0  // 0 end, 1 arrival, 2/3 deadline side 0/1, 4/5 data 0/1, 6/7 FIFO arrival, 8 extra timeout
            if let top = nextArrival, top < t.nanoseconds {
                t = Instant(nanoseconds: top)
                kind = 1
            }
            for side in 0..<2 where fifoHead[side] < fifo[side].count {
                let time = fifo[side][fifoHead[side]].time
                if time < t.nanoseconds {
                    t = Instant(nanoseconds: time)
                    kind = 6 + side
                }
            }
            for side in 0..<2 {
                if let d = deadlines[side], d < t {
                    t = d
                    kind = 2 + side
                }
                if directions[side].dataRate > 0, nextData[side] < t {
                    t = nextData[side]
                    kind = 4 + side
                }
            }
            if let every = extraTimeouts {
                let next = nextExtraTimeout ?? now + every
                nextExtraTimeout = next
                if next < t {
                    t = next
                    kind = 8
                }
            }
            if kind == 0 {
                now = end
                return
            }
            now = max(now, t)
            switch kind {
            case 1:
                let packet = popPacket()
                deliver(packet)
            case 6, 7:
                let side = kind - 6
                let packet = fifo[side][fifoHead[side]]
                fifoHead[side] += 1
                if fifoHead[side] >= 4096 {
                    fifo[side].removeFirst(fifoHead[side])
                    fifoHead[side] = 0
                }
                deliver(packet)
            case 2, 3:
                if kind == 2 { edge.handleTimeout(now: now) } else { hub.handleTimeout(now: now) }
                drain(kind - 2)
            case 8:
                nextExtraTimeout = now + extraTimeouts!
                for side in 0..<2 {
                    let idle = side == 0 ? edge.isIdle(at: now) : hub.isIdle(at: now)
                    if idle && skipIdleTimeouts {
                        idleTimeoutsSkipped += 1
                        continue
                    }
                    extraTimeoutsRun += 1
                    if side == 0 { edge.handleTimeout(now: now) } else { hub.handleTimeout(now: now) }
                    drain(side)
                }
            default:
                let side = kind - 4
                nextData[side] = nextData[side] + .nanoseconds(1_000_000_000 / directions[side].dataRate)
                drain(side, data: true)
            }
        }
    }

    private mutating func deliver(_ packet: Packet) {
        let side = packet.to
        if side == 0 {
            edge.handlePacketReceived(counter: packet.counter, timestamp: packet.timestamp, now: now)
        } else {
            hub.handlePacketReceived(counter: packet.counter, timestamp: packet.timestamp, now: now)
        }
        var reply: ProbeFrame?
        if let frames = packet.frames {
            var reader = FrameReader(frames)
            while let result = reader.next() {
                guard case .success(let frame) = result else { fatalError("harness wrote a bad frame") }
                switch frame.type {
                case .probe:
                    let answer: Result<ProbeFrame, MonitorDropReason>
                    if side == 0 {
                        answer = edge.handleProbe(frame.body, now: now)
                    } else {
                        answer = hub.handleProbe(frame.body, now: now)
                    }
                    if case .success(let a) = answer { reply = a }
                case .probeReply:
                    if side == 0 {
                        edge.handleProbeReply(frame.body, now: now)
                    } else {
                        hub.handleProbeReply(frame.body, now: now)
                    }
                case .receiverReport:
                    if side == 0 {
                        edge.handleReceiverReport(frame.body, now: now)
                    } else {
                        hub.handleReceiverReport(frame.body, now: now)
                    }
                default:
                    break
                }
            }
        }
        drain(side, initial: reply)
    }

    /// Drains the monitor of `side`: sends one packet with any frames it wants (plus `initial`),
    /// or a data packet, then collects its events and its deadline.
    private mutating func drain(_ side: Int, data: Bool = false, initial: ProbeFrame? = nil) {
        var buffer: ByteBuffer?
        scratch.clear()
        initial?.write(.probeReply, to: &scratch)
        let before = scratch.readableBytes
        let due = side == 0 ? edge.hasFrameDue(now: now) : hub.hasFrameDue(now: now)
        if side == 0 {
            while edge.pollFrame(now: now, into: &scratch, using: &random) != nil {}
        } else {
            while hub.pollFrame(now: now, into: &scratch, using: &random) != nil {}
        }
        let wrote = scratch.readableBytes > before
        if wrote { drainsWithFrames += 1 }
        if wrote && !due { frameDueMisses += 1 }
        if scratch.readableBytes > 0 {
            buffer = scratch
            scratch = allocator.buffer(capacity: 256)
        }
        if data || buffer != nil { send(from: side, frames: buffer) }
        while true {
            let event: LinkEvent?
            if side == 0 {
                event = edge.pollEvent()
            } else {
                event = hub.pollEvent()
            }
            guard let event else { break }
            events[side].append(event)
            onEvent?(side, event)
        }
        if side == 0 {
            deadlines[0] = edge.nextDeadline()
        } else {
            deadlines[1] = hub.nextDeadline()
        }
    }

    private mutating func send(from side: Int, frames: ByteBuffer?) {
        let counter = counters[side]
        counters[side] += 1
        if side == 0 {
            edge.handlePacketSent(linkCounter: counter, now: now)
        } else {
            hub.handlePacketSent(linkCounter: counter, now: now)
        }
        directions[side].sent += 1
        let lost = directions[side].loss.drops(at: now, using: &lossRandom[side])
        let blackedOut = directions[side].blackouts.contains { $0.contains(now) }
        if directions[side].keepTrace {
            directions[side].trace.append((now, lost || blackedOut))
            if directions[side].trace.count > 400 { directions[side].trace.removeFirst(200) }
        }
        if lost || blackedOut {
            directions[side].dropped += 1
            return
        }
        var delay = directions[side].delay
        if directions[side].exponentialJitterMean > .zero {
            let u = 1 - random.nextUnitDouble()
            delay =
                delay
                + TimeSpan(nanoseconds: Int64(-log(u) * Double(directions[side].exponentialJitterMean.nanoseconds)))
        } else if directions[side].jitter > .zero {
            delay = delay + .nanoseconds(Int64.random(in: 0...directions[side].jitter.nanoseconds, using: &random))
        }
        let packet = Packet(
            time: (now + delay).nanoseconds,
            order: order,
            to: 1 - side,
            counter: counter,
            timestamp: WireTimestamp(now),
            frames: frames
        )
        order += 1
        if directions[side].jitter == .zero && directions[side].exponentialJitterMean == .zero {
            fifo[side].append(packet)
            return
        }
        pushPacket(packet)
    }

    // A binary min-heap of trivial entries on (time, order): ties leave in send order. Packets live
    // in a slot table so the heap moves only plain integers.
    private struct Entry {
        var time: Int64
        var order: Int
        var slot: Int
    }

    private static func before(_ a: Entry, _ b: Entry) -> Bool {
        a.time < b.time || (a.time == b.time && a.order < b.order)
    }

    private var nextArrival: Int64? { heap.first?.time }

    private mutating func pushPacket(_ packet: Packet) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = packet
        } else {
            slot = slots.count
            slots.append(packet)
        }
        heap.append(Entry(time: packet.time, order: packet.order, slot: slot))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.before(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func popPacket() -> Packet {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var smallest = i
                if l < heap.count, Self.before(heap[l], heap[smallest]) { smallest = l }
                if r < heap.count, Self.before(heap[r], heap[smallest]) { smallest = r }
                if smallest == i { break }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        let packet = slots[top.slot]!
        slots[top.slot] = nil
        freeSlots.append(top.slot)
        return packet
    }
}
