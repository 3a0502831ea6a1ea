import SDWANCore
import Testing

/// RFC 6479 window per link (docs/crypto.md "Replay windows").
@Suite struct ReplayWindowTests {
    /// Two links 200 ms apart, 50 000 packets/s, a random link per packet, each link with its own
    /// counter and window; a little in-link jitter reorders packets within a link. Replays of
    /// random earlier packets are injected at random later times, some still inside the window,
    /// some far behind it, and counters exactly at the window edge are probed.
    @Test func twoLinkArrivalsWithInjectedReplays() {
        var random = SeededRandomSource(seed: 61)
        let rate = 50_000
        let seconds = 2
        let delays: [Int64] = [10_000_000, 210_000_000]  // ns: 200 ms skew
        let jitter: Int64 = 2_000_000  // up to 2 ms within a link (≈ 50 packets of reordering)
        var counters: [UInt64] = [0, 0]
        struct Arrival: Comparable {
            var at: Int64
            var order: Int
            var link: Int
            var counter: UInt64
            var isReplay: Bool
            static func < (a: Arrival, b: Arrival) -> Bool { (a.at, a.order) < (b.at, b.order) }
        }
        var arrivals: [Arrival] = []
        var sent: [(link: Int, counter: UInt64, at: Int64)] = []
        for i in 0..<(rate * seconds) {
            let sentAt = Int64(i) * 1_000_000_000 / Int64(rate)
            let link = Int.random(in: 0...1, using: &random)
            let counter = counters[link]
            counters[link] += 1
            sent.append((link, counter, sentAt))
            let at = sentAt + delays[link] + Int64.random(in: 0...jitter, using: &random)
            arrivals.append(Arrival(at: at, order: i, link: link, counter: counter, isReplay: false))
        }
        // 5 000 replays of random earlier packets, arriving 0.3 ms … 1.5 s after the original.
        for j in 0..<5_000 {
            let original = sent[Int.random(in: 0..<sent.count, using: &random)]
            let at =
                original.at + delays[original.link] + jitter + Int64.random(in: 300_000...1_500_000_000, using: &random)
            arrivals.append(
                Arrival(at: at, order: sent.count + j, link: original.link, counter: original.counter, isReplay: true)
            )
        }
        arrivals.sort()
        var windows = [ReplayWindow(), ReplayWindow()]
        var falseDrops = 0
        var replaysAccepted = 0
        var replaysTooOld = 0
        var replaysInWindow = 0
        for a in arrivals {
            let verdict = windows[a.link].check(a.counter)
            if a.isReplay {
                switch verdict {
                case .fresh: replaysAccepted += 1
                case .replayed: replaysInWindow += 1
                case .tooOld: replaysTooOld += 1
                case .beyondLimit: break
                }
            } else if verdict == .fresh {
                windows[a.link].commit(a.counter)
            } else {
                falseDrops += 1
            }
        }
        #expect(falseDrops == 0)
        #expect(replaysAccepted == 0)
        #expect(replaysInWindow + replaysTooOld == 5_000)
        // Both regimes are exercised: the window (8128) covers ~0.33 s of one link at 25 000/s.
        #expect(replaysInWindow > 500 && replaysTooOld > 500)
        // Never-seen counters older than the window are refused; the edge is exact.
        for link in 0...1 {
            let newest = windows[link].newest
            #expect(windows[link].check(newest - ReplayWindow.size) == .tooOld)
            #expect(windows[link].check(newest - ReplayWindow.size + 1) == .replayed)
            #expect(windows[link].check(newest + 1) == .fresh)
        }
    }

    @Test func windowEdgeAndLimitAreExact() {
        var window = ReplayWindow()
        #expect(ReplayWindow.size == 8128)
        #expect(window.check(0) == .fresh)
        window.commit(0)
        #expect(window.check(0) == .replayed)
        window.commit(10_000)
        // Never seen, but exactly at / just inside the edge.
        #expect(window.check(10_000 - 8128) == .tooOld)
        #expect(window.check(10_000 - 8127) == .fresh)
        window.commit(10_000 - 8127)
        #expect(window.check(10_000 - 8127) == .replayed)
        // A jump of more than the whole ring clears it.
        window.commit(1_000_000)
        #expect(window.check(999_999) == .fresh)
        #expect(window.check(1_000_000) == .replayed)
        #expect(window.check(WireFormat.counterLimit) == .fresh)
        #expect(window.check(WireFormat.counterLimit + 1) == .beyondLimit)
    }
}
