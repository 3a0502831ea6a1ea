import SDWANCore
import SDWANLinkModel
import SDWANSimulator
import Testing

/// The event queue and loop: time order, insertion-order ties, timers, and determinism.
@Suite struct EventLoopTests {
    /// 20 000 events at random instants drawn from only 50 distinct values (many ties) come out
    /// sorted by instant, and among equal instants in the order they were scheduled.
    @Test func eventsComeOutInTimeOrderWithTiesInInsertionOrder() {
        var queue = EventQueue<Int>()
        var random = SeededRandomSource(seed: 1)
        var scheduled: [(Instant, Int)] = []
        for i in 0..<20_000 {
            let at = Instant(nanoseconds: Int64.random(in: 0..<50, using: &random))
            queue.schedule(i, at: at)
            scheduled.append((at, i))
        }
        var popped: [(Instant, Int)] = []
        while let (at, event) = queue.popNext() { popped.append((at, event)) }
        // A stable sort by instant is exactly "time order, ties by insertion".
        let expected = scheduled.enumerated().sorted { a, b in
            a.element.0 < b.element.0 || (a.element.0 == b.element.0 && a.offset < b.offset)
        }.map(\.element)
        #expect(popped.map(\.1) == expected.map(\.1))
        #expect(popped.map(\.0) == expected.map(\.0))
    }

    /// Ties keep insertion order even when pops and pushes interleave.
    @Test func tiesScheduledLaterRunLaterAcrossInterleavedPops() {
        var queue = EventQueue<String>()
        let t = Instant.zero + .milliseconds(5)
        queue.schedule("a", at: t)
        queue.schedule("early", at: .zero)
        queue.schedule("b", at: t)
        #expect(queue.popNext()?.event == "early")
        queue.schedule("c", at: t)
        queue.schedule("d", at: .zero + .milliseconds(4))
        var order: [String] = []
        while let (_, e) = queue.popNext() { order.append(e) }
        #expect(order == ["d", "a", "b", "c"])
    }

    /// Lanes change nothing about the order: events scheduled into three lanes (mostly in time
    /// order, sometimes earlier than the lane's last one, often at equal instants) and outside any
    /// lane, with pops interleaved: every pop is the earliest pending event (by instant, then by
    /// scheduling order); a copy taken mid-run with busy lanes pops what was pending then.
    @Test func lanesKeepTimeAndInsertionOrder() {
        var queue = EventQueue<Int>()
        let lanes = (0..<3).map { _ in queue.makeLane() }
        var random = SeededRandomSource(seed: 7)
        var laneTime = [Int64](repeating: 0, count: 3)
        var pending: [(at: Int64, order: Int, event: Int)] = []
        var popped: [Int] = []
        var expected: [Int] = []
        var copied: (queue: EventQueue<Int>, remainder: [Int])?
        for i in 0..<6_000 {
            let choice = Int(random.next() % 4)
            if choice < 3 {
                // Mostly forward in small steps (ties included), one in ten earlier.
                let step = Int64(random.next() % 5)
                let at = random.next() % 10 == 0 ? max(0, laneTime[choice] - 3) : laneTime[choice] + step
                laneTime[choice] = max(laneTime[choice], at)
                queue.schedule(i, at: Instant(nanoseconds: at), lane: lanes[choice])
                pending.append((at, i, i))
            } else {
                let at = Int64(random.next() % 8_000)
                queue.schedule(i, at: Instant(nanoseconds: at))
                pending.append((at, i, i))
            }
            if i == 4_000 {
                let rest = pending.sorted { ($0.at, $0.order) < ($1.at, $1.order) }.map(\.event)
                copied = (queue, rest)
            }
            if random.next() % 2 == 0, let (at, event) = queue.popNext() {
                // The reference: the earliest pending event (instant, then scheduling order).
                let first = pending.indices.min {
                    (pending[$0].at, pending[$0].order) < (pending[$1].at, pending[$1].order)
                }!
                expected.append(pending[first].event)
                #expect(at.nanoseconds == pending[first].at)
                pending.remove(at: first)
                popped.append(event)
            }
        }
        while let (_, event) = queue.popNext() { popped.append(event) }
        expected += pending.sorted { ($0.at, $0.order) < ($1.at, $1.order) }.map(\.event)
        #expect(popped == expected)
        #expect(queue.isEmpty && queue.count == 0)
        // The copy holds what was pending when it was taken, whatever the original did after.
        if let (taken, remainder) = copied {
            var copy = taken
            var fromCopy: [Int] = []
            while let (_, event) = copy.popNext() { fromCopy.append(event) }
            #expect(fromCopy == remainder)
        }
    }

    /// The queue is a value: a copy taken mid-run (through slot reuse and growth) pops its own
    /// events, unchanged by what the original does after, and the other way round; events are
    /// released once popped or when the queues go away.
    @Test func aCopiedQueueIsIndependentAndReleasesItsEvents() {
        final class Tracked {
            let n: Int
            init(_ n: Int) { self.n = n }
        }
        weak var probe: Tracked?
        do {
            var original = EventQueue<Tracked>()
            for i in 0..<100 { original.schedule(Tracked(i), at: .zero + .milliseconds(Int64(i % 7))) }
            for _ in 0..<40 { _ = original.popNext() }
            var copy = original
            do {
                let kept = Tracked(-1)
                probe = kept
                copy.schedule(kept, at: .zero)
            }
            for i in 100..<300 { original.schedule(Tracked(i), at: .zero + .milliseconds(Int64(i % 5))) }
            #expect(copy.count == 61 && original.count == 260)
            var fromCopy: [Int] = []
            while let (_, e) = copy.popNext() { fromCopy.append(e.n) }
            #expect(fromCopy.first == -1 && fromCopy.count == 61 && fromCopy.allSatisfy { $0 < 100 })
            #expect(probe == nil)
            var fromOriginal: [Int] = []
            while let (_, e) = original.popNext() { fromOriginal.append(e.n) }
            #expect(fromOriginal.count == 260 && !fromOriginal.contains(-1))
            let pending = Tracked(0)
            probe = pending
            original.schedule(pending, at: .zero)
        }
        #expect(probe == nil)
    }

    /// A replaced timer fires once at its new deadline; a cancelled one never; the clock rests at
    /// `end` when nothing is left.
    @Test func timersAreReplacedAndCancelledNotDuplicated() {
        var sim = Simulation<String>()
        sim.setDeadline(.zero + .milliseconds(10), for: 0)
        sim.setDeadline(.zero + .milliseconds(30), for: 0)
        sim.setDeadline(.zero + .milliseconds(20), for: 1)
        sim.setDeadline(nil, for: 1)
        sim.schedule("packet", at: .zero + .milliseconds(30))
        var steps: [String] = []
        while let (now, step) = sim.next(until: .zero + .seconds(1)) {
            switch step {
            case .event(let e): steps.append("\(now.nanoseconds / 1_000_000) \(e)")
            case .timer(let endpoint): steps.append("\(now.nanoseconds / 1_000_000) timer \(endpoint)")
            }
        }
        #expect(steps == ["30 timer 0", "30 packet"])
        #expect(sim.now == .zero + .seconds(1))
        #expect(sim.deadline(of: 0) == nil)
    }

    /// A link delivers at the model's instant, twice for a duplicate, never for a drop.
    @Test func simulatedLinkSchedulesDeliveriesFromItsModel() {
        var queue = EventQueue<Int>()
        var link = SimulatedLink<Int>(
            LinkDirectionParameters(baseDelay: .milliseconds(20), mtu: 1000, duplication: 1),
            random: SeededRandomSource(seed: 2)
        )
        link.send(1, size: 500, at: .zero, into: &queue) { $0 }
        link.send(2, size: 1500, at: .zero, into: &queue) { $0 }
        #expect(queue.count == 2)
        #expect(queue.popNext()! == (Instant.zero + .milliseconds(20), 1))
        #expect(queue.popNext()! == (Instant.zero + .milliseconds(20), 1))
        #expect(link.model.counters.dropped.mtu == 1 && link.model.counters.duplicated == 1)
    }

    /// Two endpoints ping-pong over impaired links (jitter, Gilbert loss, duplication, reordering,
    /// a rate limit, a brownout) while each also sends on a timer: the full event trace is identical
    /// for one seed and differs for another.
    @Test func sameSeedGivesIdenticalTraceDifferentSeedDiffers() {
        let a = Self.trace(seed: 42)
        #expect(a.count > 1_000)
        #expect(a == Self.trace(seed: 42))
        #expect(a != Self.trace(seed: 43))
    }

    struct Datagram: Equatable {
        var from: Int
        var number: Int
    }

    enum Event {
        case arrival(Datagram, at: Int)
    }

    static func trace(seed: UInt64) -> [String] {
        let root = SeededRandomSource(seed: seed)
        let parameters = LinkDirectionParameters(
            baseDelay: .milliseconds(15),
            jitter: .exponential(mean: .milliseconds(4)),
            ordering: .allowReordering,
            loss: .gilbert(lossRatio: 0.02, meanBurst: 3),
            rate: RateLimit(bitsPerSecond: 2_000_000, queueLimit: .packets(8)),
            duplication: 0.01,
            reordering: Reordering(probability: 0.02, extraDelay: .milliseconds(3)),
            schedules: [
                .periodic(
                    period: .seconds(2),
                    offset: .zero,
                    minDuration: .milliseconds(50),
                    maxDuration: .milliseconds(150),
                    effect: .outage
                )
            ]
        )
        var links = [0, 1].map { SimulatedLink<Datagram>(parameters, random: root.derived(UInt64($0))) }
        var sim = Simulation<Event>()
        var sent = [0, 0]
        var trace: [String] = []
        sim.setDeadline(.zero, for: 0)
        sim.setDeadline(.zero + .milliseconds(3), for: 1)
        func send(from node: Int, sim: inout Simulation<Event>) {
            sent[node] += 1
            let d = Datagram(from: node, number: sent[node])
            links[node].send(d, size: 1000, at: sim.now, into: &sim) { .arrival($0, at: 1 - node) }
        }
        while let (now, step) = sim.next(until: .zero + .seconds(10)) {
            switch step {
            case .timer(let node):
                trace.append("\(now.nanoseconds) timer \(node)")
                send(from: node, sim: &sim)
                sim.setDeadline(now + .milliseconds(20), for: node)
            case .event(.arrival(let d, let node)):
                trace.append("\(now.nanoseconds) \(node) got \(d.from):\(d.number)")
                if d.number % 3 == 0 { send(from: node, sim: &sim) }
            }
        }
        return trace
    }
}
