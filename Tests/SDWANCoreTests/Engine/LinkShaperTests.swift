import SDWANCore
import Testing

@Suite struct LinkShaperTests {
    /// A saturated bulk queue at 1 Mbit/s: 1250-byte packets leave every 10 ms exactly (1250 B ×
    /// 8 / 10^6 bit/s), after the initial burst.
    @Test func shapedRateIsHeldExactly() {
        var shaper = LinkShaper<Int>(configuration: .init(rateBitsPerSecond: 1_000_000, burstBytes: 2_500))
        var now = Instant.zero
        for i in 0..<100 { _ = shaper.enqueue(i, size: 1_250, priority: .bulk, now: now) }
        var departures: [Instant] = []
        while let deadline = shaper.nextDeadline() {
            now = max(now, deadline)
            while let _ = shaper.dequeue(now: now) { departures.append(now) }
        }
        #expect(departures.count == 100)
        // Two leave at once (the 2500-byte burst), then one per 10 ms.
        #expect(departures[1] == .zero)
        for i in 2..<100 {
            #expect(departures[i] - departures[i - 1] == .milliseconds(10))
        }
    }

    /// `leavesAtOnce` is `enqueue` then `dequeue` at the same instant without the queue: the same
    /// departures at the same instants, the same tokens, the same counts. Arrivals of 1250 bytes at
    /// 1 Mbit/s (10 ms of tokens each) every 4 ms in bursts, so some meet an empty shaper with tokens,
    /// some an empty one without, some a backlog; between arrivals both shapers run their deadlines.
    @Test func leavingAtOnceIsQueueingAndDequeueingAtOnce() {
        let configuration = ShaperConfiguration(rateBitsPerSecond: 1_000_000, burstBytes: 2_500)
        var direct = LinkShaper<Int>(configuration: configuration)
        var queued = LinkShaper<Int>(configuration: configuration)
        var directOut: [(Int, Instant)] = []
        var queuedOut: [(Int, Instant)] = []
        var leftAtOnce = 0
        let arrivals: [Instant] = (0..<60).map { (i: Int) -> Instant in
            let milliseconds = Int64(i / 3 * 25 + i % 3 * 4)
            return Instant.zero + TimeSpan.milliseconds(milliseconds)
        }
        func runDeadlines(until end: Instant) {
            while let d = direct.nextDeadline(), d <= end {
                while let (e, _) = direct.dequeue(now: d) { directOut.append((e, d)) }
            }
            while let d = queued.nextDeadline(), d <= end {
                while let (e, _) = queued.dequeue(now: d) { queuedOut.append((e, d)) }
            }
        }
        for (i, now) in arrivals.enumerated() {
            runDeadlines(until: now)
            let priority: TrafficPriority = i % 5 == 0 ? .realtime : .bulk
            if direct.leavesAtOnce(size: 1_250, priority: priority, now: now) {
                directOut.append((i, now))
                leftAtOnce += 1
            } else {
                _ = direct.enqueue(i, size: 1_250, priority: priority, now: now)
            }
            while let (e, _) = direct.dequeue(now: now) { directOut.append((e, now)) }
            _ = queued.enqueue(i, size: 1_250, priority: priority, now: now)
            while let (e, _) = queued.dequeue(now: now) { queuedOut.append((e, now)) }
        }
        runDeadlines(until: .zero + .seconds(10))
        #expect(queuedOut.count == 60)
        #expect(directOut.map(\.0) == queuedOut.map(\.0))
        #expect(directOut.map(\.1) == queuedOut.map(\.1))
        #expect(direct.sent == queued.sent)
        // Both kinds of arrival happened: the burst's first two, then every group's first after
        // the queue ran dry, left at once; the others waited for tokens.
        #expect(leftAtOnce >= 2 && leftAtOnce < 60)
    }

    /// Nothing leaves at once past items already waiting, whatever the tokens: a queued bulk item
    /// keeps a realtime item from skipping the queue (it waits, then leaves first by priority).
    @Test func nothingLeavesAtOnceWhileItemsWait() {
        var shaper = LinkShaper<Int>(configuration: .init(rateBitsPerSecond: 1_000_000, burstBytes: 1_250))
        let first = shaper.leavesAtOnce(size: 1_250, priority: .bulk, now: .zero)
        #expect(first)
        _ = shaper.enqueue(1, size: 1_250, priority: .bulk, now: .zero)
        let jumped = shaper.leavesAtOnce(size: 200, priority: .realtime, now: .zero + .seconds(1))
        #expect(!jumped)
        #expect(shaper.sent == [0, 0, 1])
    }

    /// A lane keeps first-in first-out order when it grows past its initial room (64) while its
    /// ring has wrapped: 40 queued, 30 gone, then 100 more (the lane's `Ring` doubles with its
    /// oldest item mid-array).
    @Test func laneOrderSurvivesGrowthOfAWrappedRing() {
        let roomy = [1_000_000, 1_000_000, 1_000_000]
        var shaper = LinkShaper<Int>(configuration: .init(rateBitsPerSecond: 0, queueLimitBytes: roomy))
        for i in 0..<40 {
            let accepted = shaper.enqueue(i, size: 100, priority: .normal, now: .zero)
            #expect(accepted)
        }
        var out: [Int] = []
        for _ in 0..<30 { out.append(shaper.dequeue(now: .zero)!.element) }
        for i in 40..<140 {
            let accepted = shaper.enqueue(i, size: 100, priority: .normal, now: .zero)
            #expect(accepted)
        }
        #expect(shaper.backlogBytes == 110 * 100)
        while let (element, _) = shaper.dequeue(now: .zero) { out.append(element) }
        #expect(out == Array(0..<140))
        #expect(shaper.isEmpty && shaper.backlogBytes == 0)
    }

    /// A shaper is a value: a copy keeps its own queue when the original changes (the lanes'
    /// rings share their memory until one of them is changed, then copy it).
    @Test func aCopiedShaperKeepsItsOwnQueue() {
        var original = LinkShaper<String>(configuration: .unshaped)
        for name in ["a", "b", "c"] { _ = original.enqueue(name, size: 100, priority: .normal, now: .zero) }
        var copy = original
        #expect(original.dequeue(now: .zero)?.element == "a")
        _ = original.enqueue("d", size: 100, priority: .normal, now: .zero)
        _ = copy.enqueue("x", size: 100, priority: .normal, now: .zero)
        var fromCopy: [String] = []
        while let (element, _) = copy.dequeue(now: .zero) { fromCopy.append(element) }
        var fromOriginal: [String] = []
        while let (element, _) = original.dequeue(now: .zero) { fromOriginal.append(element) }
        #expect(fromCopy == ["a", "b", "c", "x"])
        #expect(fromOriginal == ["b", "c", "d"])
    }

    /// Voice queued behind a full bulk backlog leaves first: strict priority.
    @Test func realtimeJumpsTheBulkQueue() {
        var shaper = LinkShaper<String>(configuration: .init(rateBitsPerSecond: 1_000_000, burstBytes: 1_250))
        for _ in 0..<50 { _ = shaper.enqueue("bulk", size: 1_250, priority: .bulk, now: .zero) }
        #expect(shaper.dequeue(now: .zero)?.element == "bulk")
        _ = shaper.enqueue("voice", size: 200, priority: .realtime, now: .zero)
        let deadline = shaper.nextDeadline()!
        // 200 bytes at 125 000 B/s = 1.6 ms.
        #expect(deadline == .zero + .microseconds(1_600))
        let next = shaper.dequeue(now: deadline)
        #expect(next?.element == "voice")
        #expect(next?.queuedFor == .microseconds(1_600))
    }

    /// A head that waits for tokens does not hold back a realtime item queued after it: the voice
    /// item leaves when the bucket holds its own 250 bytes. 1 Mbit/s = 125 bytes per ms; at 1.2 ms
    /// the bucket holds 150 bytes (emptied at 0), so voice leaves at 2 ms, and the waiting bulk
    /// item, needing 1250 bytes from then, at 12 ms.
    @Test func realtimeDoesNotWaitForTheBulkHeadsTokens() {
        var shaper = LinkShaper<String>(configuration: .init(rateBitsPerSecond: 1_000_000, burstBytes: 1_250))
        _ = shaper.enqueue("bulk 1", size: 1_250, priority: .bulk, now: .zero)
        _ = shaper.enqueue("bulk 2", size: 1_250, priority: .bulk, now: .zero)
        #expect(shaper.dequeue(now: .zero)?.element == "bulk 1")
        #expect(shaper.dequeue(now: .zero) == nil)  // bulk 2 waits until 10 ms
        #expect(shaper.dequeue(now: .zero + .milliseconds(1)) == nil)
        _ = shaper.enqueue("voice", size: 250, priority: .realtime, now: .zero + .microseconds(1_200))
        #expect(shaper.nextDeadline() == .zero + .milliseconds(2))
        #expect(shaper.dequeue(now: .zero + .microseconds(1_999)) == nil)
        #expect(shaper.dequeue(now: .zero + .milliseconds(2))?.element == "voice")
        #expect(shaper.nextDeadline() == .zero + .milliseconds(12))
        #expect(shaper.dequeue(now: .zero + .milliseconds(12))?.element == "bulk 2")
    }

    /// A rate change counts the tokens earned before it at the old rate: a 1250-byte item waiting
    /// in an empty bucket at 1 Mbit/s (125 bytes per ms) has 500 bytes after 4 ms; at 2 Mbit/s
    /// from then the other 750 take 3 ms, so it leaves at 7 ms (not at 5 ms, as if the whole wait
    /// had been at the new rate, nor at 10 ms, as if the rate had not changed).
    @Test func aRateChangeCountsTheTokensEarnedBeforeIt() {
        var shaper = LinkShaper<Int>(configuration: .init(rateBitsPerSecond: 1_000_000, burstBytes: 1_250))
        _ = shaper.enqueue(1, size: 1_250, priority: .bulk, now: .zero)
        _ = shaper.enqueue(2, size: 1_250, priority: .bulk, now: .zero)
        #expect(shaper.dequeue(now: .zero)?.element == 1)
        #expect(shaper.dequeue(now: .zero) == nil)
        shaper.setConfiguration(.init(rateBitsPerSecond: 2_000_000, burstBytes: 1_250), now: .zero + .milliseconds(4))
        #expect(shaper.nextDeadline() == .zero + .milliseconds(7))
        #expect(shaper.dequeue(now: .zero + .microseconds(6_999)) == nil)
        #expect(shaper.dequeue(now: .zero + .milliseconds(7))?.element == 2)
    }

    /// Asking a shaper between its deadlines changes nothing: one shaper asked only at arrivals
    /// and at its deadlines, another also every 250 µs, give the same items at the same instants.
    /// Arrivals of mixed sizes and priorities at 1 Mbit/s, faster than the rate, so a backlog forms
    /// and realtime items arrive while a bulk head waits.
    @Test func askingBetweenDeadlinesChangesNothing() {
        let configuration = ShaperConfiguration(rateBitsPerSecond: 1_000_000, burstBytes: 2_500)
        /// The arrivals (every 3.1 ms; a quarter realtime, 200 bytes; the rest bulk, 400–1 300)
        /// into a fresh shaper, asked at each arrival and deadline, and every `tick` if given.
        func run(askingEvery tick: Int64?) -> (out: [(Int, Instant)], backlog: Int) {
            var shaper = LinkShaper<Int>(configuration: configuration)
            var out: [(Int, Instant)] = []
            var now = Instant.zero
            var next = 0
            while now < .zero + .milliseconds(900) {
                let arrival = Instant.zero + .microseconds(Int64(next) * 3_100)
                var at = shaper.nextDeadline().map { min(arrival, max($0, now)) } ?? arrival
                if let tick { at = min(at, .zero + .microseconds((now.nanoseconds / (tick * 1_000) + 1) * tick)) }
                now = at
                while let (e, _) = shaper.dequeue(now: now) { out.append((e, now)) }
                if now == arrival {
                    let realtime = next % 4 == 1
                    let size = realtime ? 200 : 400 + next % 7 * 150
                    _ = shaper.enqueue(next, size: size, priority: realtime ? .realtime : .bulk, now: now)
                    while let (e, _) = shaper.dequeue(now: now) { out.append((e, now)) }
                    next += 1
                }
            }
            return (out, shaper.backlogBytes)
        }
        let (sparseOut, backlog) = run(askingEvery: nil)
        let (denseOut, _) = run(askingEvery: 250)
        #expect(sparseOut.count > 150)
        #expect(sparseOut.map(\.0) == denseOut.map(\.0))
        #expect(sparseOut.map(\.1) == denseOut.map(\.1))
        #expect(backlog > 0)  // the arrivals outran the rate
    }

    @Test func fullQueueDropsEarlyAndCounts() {
        var shaper = LinkShaper<Int>(
            configuration: .init(rateBitsPerSecond: 1_000_000, queueLimitBytes: [2_000, 10_000, 5_000])
        )
        var accepted = 0
        for i in 0..<10 where shaper.enqueue(i, size: 1_000, priority: .bulk, now: .zero) { accepted += 1 }
        #expect(accepted == 5)
        #expect(shaper.dropped[LinkShaper<Int>.Priority.bulk.rawValue] == 5)
        #expect(shaper.backlogBytes == 5_000)
        let ok = shaper.enqueue(99, size: 1_000, priority: .realtime, now: .zero)
        #expect(ok)
    }

    @Test func unshapedLinkPassesEverythingAtOnce() {
        var shaper = LinkShaper<Int>(configuration: .unshaped)
        for i in 0..<50 { _ = shaper.enqueue(i, size: 1_400, priority: .normal, now: .zero) }
        var out: [Int] = []
        while let item = shaper.dequeue(now: .zero) { out.append(item.element) }
        #expect(out == Array(0..<50))
        #expect(shaper.nextDeadline() == nil)
    }
}
