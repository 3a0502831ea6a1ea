import SDWANCore
import SDWANLinkModel
import Testing

/// `PathMonitor.isIdle(at:)`: the engine skips a monitor's timeout when it says the timeout would
/// change nothing (a shaper's deadline wakes the engine for every shaped packet). Skipping must
/// be invisible: two runs with the same inputs and a timeout every millisecond — one running every
/// timeout, one skipping the idle ones — must see the same link events and the same quality at
/// every checkpoint. A third run without the extra timeouts shows that they are observable at all
/// (the loss windows slide in a timeout), so the comparison can fail.
@Suite struct IdleTimeoutTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var busy: Bool
        var testDescription: String { busy ? "busy (50 packets/s each way)" : "idle (probes only)" }
    }

    static func pair(_ c: Case, extra: TimeSpan?, skipIdle: Bool) -> MonitorPair {
        let rate: Int64 = c.busy ? 50 : 0
        // 2 % bursty loss, jitter, and a 2 s blackout of the hub→edge direction: every timer the
        // monitor has (settling gaps, liveness, evaluation ticks, reports, probes) fires.
        let loss = LossModel.gilbert(lossRatio: 0.02, meanBurst: 3)
        var pair = MonitorPair(
            seed: 42,
            edgeToHub: .init(
                delay: .milliseconds(20),
                jitter: .milliseconds(4),
                loss: LossProcess(model: loss),
                dataRate: rate
            ),
            hubToEdge: .init(
                delay: .milliseconds(25),
                jitter: .milliseconds(6),
                loss: LossProcess(model: loss),
                dataRate: rate
            )
        )
        pair.directions[1].blackouts = [Instant.zero + .seconds(12)..<Instant.zero + .seconds(14)]
        pair.extraTimeouts = extra
        pair.skipIdleTimeouts = skipIdle
        return pair
    }

    @Test(arguments: [Case(busy: false), Case(busy: true)])
    func skippingIdleTimeoutsChangesNothing(_ c: Case) {
        var every = Self.pair(c, extra: .milliseconds(1), skipIdle: false)
        var skipping = Self.pair(c, extra: .milliseconds(1), skipIdle: true)
        var without = Self.pair(c, extra: nil, skipIdle: false)
        var checkpoints = 0
        var differsWithout = 0
        for second in 1...30 {
            let t = Instant.zero + .seconds(Int64(second))
            every.run(until: t)
            skipping.run(until: t)
            without.run(until: t)
            #expect(skipping.edge.quality == every.edge.quality, "edge quality at \(second) s")
            #expect(skipping.hub.quality == every.hub.quality, "hub quality at \(second) s")
            #expect(skipping.edge.nextDeadline() == every.edge.nextDeadline())
            #expect(skipping.hub.nextDeadline() == every.hub.nextDeadline())
            if without.edge.quality != every.edge.quality || without.hub.quality != every.hub.quality {
                differsWithout += 1
            }
            checkpoints += 1
        }
        #expect(skipping.events == every.events)
        #expect(every.events.joined().contains { $0.to == .down }, "the blackout was seen")
        print(
            "\(c.testDescription): \(skipping.idleTimeoutsSkipped) idle timeouts skipped,",
            "\(skipping.extraTimeoutsRun) run; without extra timeouts the quality differs at",
            "\(differsWithout) of \(checkpoints) checkpoints"
        )
        // Not vacuous: most extra timeouts were skipped, some were not (a window slid, a timer
        // came), and running them is observable.
        #expect(skipping.idleTimeoutsSkipped > skipping.extraTimeoutsRun)
        #expect(skipping.extraTimeoutsRun > 0)
        #expect(differsWithout > 0)
    }
}
