import SDWANCore
import Testing

@Suite struct ProbeSchedulerTests {
    /// RFC 5880 §6.8.7: every interval in [0.75·I, I]; uniform, so the mean of n intervals is
    /// 0.875·I within 4 SE, SE = (0.25·I/√12)/√n.
    @Test func intervalsAreJitteredToSeventyFiveToOneHundredPercent() {
        var random = SeededRandomSource(seed: 3)
        var scheduler = ProbeScheduler(now: .zero)
        var now = Instant.zero
        var last: Instant?
        var spans: [Double] = []
        for _ in 0..<10_000 {
            now = scheduler.nextDue
            #expect(scheduler.poll(now: now, lastSent: nil, using: &random))
            if let last { spans.append((now - last).milliseconds) }
            last = now
        }
        #expect(spans.allSatisfy { $0 >= 75 && $0 <= 100 })
        let mean = spans.reduce(0, +) / Double(spans.count)
        #expect(abs(mean - 87.5) < 4 * (25 / 12.0.squareRoot()) / Double(spans.count).squareRoot())
    }

    @Test func standbyIntervalAndAllowedRange() {
        var random = SeededRandomSource(seed: 4)
        var scheduler = ProbeScheduler(standby: true, now: .zero)
        #expect(scheduler.interval == .seconds(1))
        #expect(scheduler.poll(now: .zero, lastSent: nil, using: &random))
        #expect(scheduler.nextDue >= .zero + .milliseconds(750) && scheduler.nextDue <= .zero + .seconds(1))
        scheduler.setStandby(false, now: .zero + .milliseconds(10))
        #expect(scheduler.nextDue == .zero + .milliseconds(10))
        #expect(ProbeScheduler.Configuration.allowedIntervals.contains(.milliseconds(20)))
        #expect(!ProbeScheduler.Configuration.allowedIntervals.contains(.milliseconds(19)))
        #expect(ProbeScheduler.Configuration.allowedIntervals.contains(.seconds(5)))
        #expect(!ProbeScheduler.Configuration.allowedIntervals.contains(.seconds(5) + .nanoseconds(1)))
    }

    /// 4 packets sent and 1 received since the last due time: the data measures the link, no probe.
    /// 3 sent: a probe.
    @Test func probesSuppressedWhenDataMeasuresTheLink() {
        var random = SeededRandomSource(seed: 5)
        var scheduler = ProbeScheduler(now: .zero)
        #expect(scheduler.poll(now: .zero, lastSent: nil, using: &random))
        for _ in 0..<4 { scheduler.noteSent() }
        scheduler.noteReceived()
        #expect(!scheduler.poll(now: scheduler.nextDue, lastSent: nil, using: &random))
        #expect(scheduler.suppressed == 1)
        for _ in 0..<3 { scheduler.noteSent() }
        scheduler.noteReceived()
        #expect(scheduler.poll(now: scheduler.nextDue, lastSent: nil, using: &random))
    }

    /// A probe due 5 ms after our last packet waits until 25 ms (I/4) after it, once.
    @Test func probeNotSentBackToBackWithTheLastPacket() {
        var random = SeededRandomSource(seed: 6)
        var scheduler = ProbeScheduler(now: .zero)
        let due = scheduler.nextDue
        #expect(!scheduler.poll(now: due, lastSent: due - .milliseconds(5), using: &random))
        #expect(scheduler.nextDue == due + .milliseconds(20))
        #expect(scheduler.poll(now: scheduler.nextDue, lastSent: scheduler.nextDue - .milliseconds(1), using: &random))
    }
}
