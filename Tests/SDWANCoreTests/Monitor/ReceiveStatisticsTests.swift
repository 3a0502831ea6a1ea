import SDWANCore
import Testing

@Suite struct ReceiveStatisticsTests {
    static func at(_ ms: Int64) -> Instant { .zero + .milliseconds(ms) }

    @Test func reorderedPacketsAreNotLost() {
        var stats = ReceiveStatistics()
        for (i, c) in [0, 1, 3, 2, 4].enumerated() {
            stats.record(
                counter: UInt64(c),
                timestamp: WireTimestamp(Self.at(Int64(c) * 10)),
                now: Self.at(Int64(i) * 10 + 20)
            )
        }
        stats.settle(now: Self.at(1_000))
        #expect(stats.received == 5 && stats.lost == 0 && stats.late == 0)
    }

    @Test func duplicatesAreCountedAndIgnored() {
        var stats = ReceiveStatistics()
        for c in [0, 1, 1, 2, 0] {
            stats.record(
                counter: UInt64(c),
                timestamp: WireTimestamp(Self.at(Int64(c) * 10)),
                now: Self.at(Int64(c) * 10 + 20)
            )
        }
        #expect(stats.duplicates == 2 && stats.received == 3 && stats.lost == 0)
    }

    /// RFC 7680: a gap open longer than Tmax (100 ms) is lost; the packet arriving after that is late
    /// and stays lost.
    @Test func packetLaterThanTmaxCountsAsLost() {
        var stats = ReceiveStatistics()
        stats.record(counter: 0, timestamp: WireTimestamp(Self.at(0)), now: Self.at(20))
        stats.record(counter: 2, timestamp: WireTimestamp(Self.at(20)), now: Self.at(40))
        stats.settle(now: Self.at(139))
        #expect(stats.lost == 0)
        #expect(stats.nextSettleDeadline == Self.at(140))
        stats.settle(now: Self.at(140))
        #expect(stats.lost == 1 && stats.received == 2)
        stats.record(counter: 1, timestamp: WireTimestamp(Self.at(10)), now: Self.at(150))
        #expect(stats.late == 1 && stats.lost == 1 && stats.received == 2)
    }

    /// RFC 3357 bursts: runs of 1, 2 and 3 lost packets → 3 bursts, mean length 2.
    @Test func burstLengths() {
        var stats = ReceiveStatistics()
        let received = [0, 2, 5, 9]
        for c in received {
            stats.record(
                counter: UInt64(c),
                timestamp: WireTimestamp(Self.at(Int64(c) * 10)),
                now: Self.at(Int64(c) * 10)
            )
        }
        stats.settle(now: Self.at(1_000))
        #expect(stats.lost == 6 && stats.bursts == 3 && stats.meanBurstLength == 2)
    }

    /// RFC 3550 §6.4.1: one transit change of 10 ms gives J = 10/16 ms; a constant offset adds nothing.
    @Test func jitterFollowsRFC3550() {
        var stats = ReceiveStatistics()
        stats.record(counter: 0, timestamp: WireTimestamp(Self.at(0)), now: Self.at(1_000))
        stats.record(counter: 1, timestamp: WireTimestamp(Self.at(20)), now: Self.at(1_020))
        #expect(stats.jitter == .zero)
        stats.record(counter: 2, timestamp: WireTimestamp(Self.at(40)), now: Self.at(1_050))
        #expect(stats.jitter == .microseconds(625))
    }

    /// A counter jump beyond the reorder range settles what falls out as lost at once.
    @Test func jumpBeyondReorderRangeSettlesTheGap() {
        var stats = ReceiveStatistics()
        stats.record(counter: 0, timestamp: WireTimestamp(Self.at(0)), now: Self.at(0))
        stats.record(counter: 5_000, timestamp: WireTimestamp(Self.at(1)), now: Self.at(1))
        #expect(stats.lost >= 5_000 - 1_024)
        stats.settle(now: Self.at(500))
        #expect(stats.lost == 4_999 && stats.received == 2)
    }

    /// A packet that ends an outage: the counters it skips are the outage's, counted apart and kept
    /// out of `lost` and every loss window, whether the gap fits in the reorder range or not. A gap
    /// that was open before the outage (counter 2, missing since 3 arrived) is still loss.
    @Test(arguments: [300, 5_000])
    func outageGapIsNotLoss(jump: Int) {
        var stats = ReceiveStatistics()
        for c in [0, 1, 3] {
            stats.record(counter: UInt64(c), timestamp: WireTimestamp(Self.at(Int64(c))), now: Self.at(Int64(c)))
        }
        let back = Self.at(10_000)
        stats.record(counter: UInt64(3 + jump), timestamp: WireTimestamp(back), now: back, endsOutage: true)
        stats.record(counter: UInt64(4 + jump), timestamp: WireTimestamp(back), now: back)
        stats.settle(now: Self.at(10_500))
        #expect(stats.outages == 1 && stats.outageLost == UInt64(jump - 1))
        #expect(stats.lost == 1 && stats.received == 5)
        #expect(stats.longWindow.lostTotal == 1 && stats.countWindow.lost == 1 && stats.countWindow.samples == 6)
    }

    /// After a rekey the counters restart at 0: once reset, the new space is accounted afresh and the
    /// cumulative counts carry on; without the reset, the restarted counters would all be late.
    @Test func counterSpaceResetAtRekey() {
        var stats = ReceiveStatistics()
        for c in 0..<10 {
            stats.record(counter: UInt64(c), timestamp: WireTimestamp(Self.at(Int64(c))), now: Self.at(Int64(c)))
        }
        stats.resetCounterSpace()
        for c in [0, 1, 3] {
            stats.record(
                counter: UInt64(c),
                timestamp: WireTimestamp(Self.at(20 + Int64(c))),
                now: Self.at(20 + Int64(c))
            )
        }
        stats.settle(now: Self.at(1_000))
        #expect(stats.received == 13 && stats.lost == 1 && stats.late == 0)
    }
}
