import SDWANCore
import SDWANLinkModel
import Testing

/// Degradation against the default SLA (1 % loss, z = 3 over the 1 s window): fail fast, recover
/// slow, rate-limited (docs/path-selection.md, "Degradation").
@Suite struct DegradationTests {
    /// A bulk flow of 1000 packets/s edge → hub (the issue asks for ≥ 500/s); the hub only reports.
    static let rate: Int64 = 1000
    static let oneWay = TimeSpan.milliseconds(20)

    static func pair(seed: UInt64, loss: Double) -> MonitorPair {
        MonitorPair(
            seed: seed,
            edgeToHub: .init(delay: oneWay, loss: LossProcess(model: .bernoulli(p: loss)), dataRate: rate),
            hubToEdge: .init(delay: oneWay)
        )
    }

    /// Step 0.1 % → 3 % at t = 12 s; both the hub (reverse loss, counted per packet) and the edge
    /// (forward loss, from the hub's reports) must go `degraded` by t + 2 s in ≥ 95 of 100 trials.
    ///
    /// Why it holds: a breach needs lost > L·N + 3·√(L(1−L)N) over the 1 s window; at N = 1000 that
    /// is ≥ 20 lost. The window first holds only post-step packets at t + 1 s + Tmax (100 ms)
    /// + report lag (50 ms + 20 ms) ≈ t + 1.17 s; from then to t + 2 s there are 8 evaluations. Each
    /// sees Binomial(1000, 3 %): mean 30, SD 5.4, so P(< 20) ≈ 2.5 % for one window, and all 8
    /// (overlapping) windows miss with probability well under 2.5 %. Before the step, 0.1 % gives a
    /// mean of 1 lost per window: P(≥ 20) ≈ 10⁻¹⁹, so no trial degrades early.
    @Test func lossStepDetectedWithinTwoSeconds() {
        var detected = [0, 0]
        var early = 0
        for trial in 0..<100 {
            var pair = Self.pair(seed: UInt64(1000 + trial), loss: 0.001)
            let step = Instant.zero + .seconds(12)
            pair.run(until: step)
            early += pair.events.joined().filter { $0.to == .degraded }.count
            pair.directions[0].loss = LossProcess(model: .bernoulli(p: 0.03))
            pair.run(until: step + .seconds(2))
            for side in 0..<2 {
                let hit = pair.events[side].contains {
                    $0.now > step && $0.to == .degraded
                        && $0.reason == .slaBreach(.loss(side == 0 ? .forward : .reverse))
                }
                if hit { detected[side] += 1 }
            }
        }
        print("loss step: edge detected \(detected[0])/100, hub \(detected[1])/100, early \(early)")
        #expect(early == 0)
        #expect(detected[0] >= 95, "edge (forward) detected \(detected[0])/100")
        #expect(detected[1] >= 95, "hub (reverse) detected \(detected[1])/100")
    }

    /// One hour at 0.5 % loss against the 1 % SLA: at most one state change per side (probing → up).
    /// Per 1 s window at N = 1000, lost ~ Binomial(1000, 0.5 %), mean 5; a breach needs ≥ 20:
    /// P ≈ 2.6·10⁻⁶. Over 36 000 evaluations (union bound, overlapping windows) ≤ 0.09 expected.
    @Test func halfPercentLossForAnHourStaysUp() {
        var pair = Self.pair(seed: 77, loss: 0.005)
        pair.run(until: .zero + .seconds(3600))
        print("hour at 0.5 %: changes edge \(pair.events[0].count), hub \(pair.events[1].count)")
        for side in 0..<2 {
            #expect(pair.events[side].count <= 1, "\(pair.events[side])")
            #expect(pair.monitors[side].status == .up)
        }
        // The loss was measured: 0.5 % within 4 SE, √(p(1−p)/N) over the hour's packets.
        let reverse = pair.hub.quality.reverse
        let n = Double(reverse.cumulativeReceived + reverse.cumulativeLost)
        let ratio = Double(reverse.cumulativeLost) / n
        #expect(abs(ratio - 0.005) < 4 * (0.005 * 0.995 / n).squareRoot())
    }

    /// A link flipping between 0.1 % and 3 % every 4 s for 5 minutes would change state about every
    /// 4 s (degrade ~1.2 s into the bad phase, recover ~3.2 s into the good one): ~15 changes a
    /// minute. The limit (6 a minute) must hold in every 60 s window, and must have been reached
    /// (so the test would fail without the limiter).
    @Test func oscillatingLinkStaysWithinChangeRate() {
        var pair = Self.pair(seed: 5, loss: 0.001)
        let limit = PathMonitorConfiguration().stateMachine.maxChangesPerMinute
        var t = Instant.zero + .seconds(10)
        pair.run(until: t)
        for phase in 0..<75 {
            pair.directions[0].loss = LossProcess(model: .bernoulli(p: phase % 2 == 0 ? 0.03 : 0.001))
            t = t + .seconds(4)
            pair.run(until: t)
        }
        for side in 0..<2 {
            let changes = pair.events[side].map(\.now)
            var most = 0
            for (i, start) in changes.enumerated() {
                most = max(most, changes[i...].prefix { $0 - start < .seconds(60) }.count)
            }
            print("oscillation side \(side): \(changes.count) changes, at most \(most) in a minute (limit \(limit))")
            #expect(most <= limit, "side \(side): \(most) changes in a minute")
            #expect(most == limit, "side \(side): the limiter was never reached (\(most))")
        }
    }
}
