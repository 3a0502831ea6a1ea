import SDWANCore
import SDWANLinkModel
import Testing

/// The estimates match the modelled link, each over 100 seeds with ≥ 99 passing; every tolerance
/// derived from the model (docs/path-selection.md, "Metrics").
@Suite struct EstimateTests {
    /// Idle link, one-way delay 20 ms + Exp(mean 2 ms) each way: RTT = 40 ms + Exp + Exp, mean 44 ms,
    /// SD 2√2 ≈ 2.83 ms; minimum 40 ms. After 1 s both sides have ~11 probe replies and ~22 report
    /// echoes each (~30 samples).
    /// - SRTT (EWMA, gain 1/8) of i.i.d. samples has SD σ·√(α/(2−α)) = 2.83·0.258 ≈ 0.73 ms and the
    ///   first sample's error decays as (7/8)^n ≤ (7/8)^20 ≈ 0.07: within 10 % (4.4 ms) is > 5 SD.
    /// - minimum of n ≥ 20 samples: P(Exp + Exp > 4 ms) = e^(−2)(1 + 2) ≈ 0.41, so P(min > 44 ms)
    ///   ≤ 0.41^20 ≈ 2·10⁻⁸: within 10 % of 40 ms.
    @Test func smoothedAndMinimumRTTWithinTenPercentAfterOneSecond() {
        var passing = 0
        for seed in 0..<100 {
            var pair = MonitorPair(
                seed: UInt64(seed),
                edgeToHub: .init(delay: .milliseconds(20), exponentialJitterMean: .milliseconds(2)),
                hubToEdge: .init(delay: .milliseconds(20), exponentialJitterMean: .milliseconds(2))
            )
            pair.run(until: .zero + .seconds(1))
            let q = pair.edge.quality
            guard let srtt = q.smoothedRTT, let minimum = q.minimumRTT else { continue }
            let srttOK = abs(srtt.milliseconds - 44) <= 4.4
            let minOK = minimum.milliseconds >= 40 && minimum.milliseconds <= 44
            if srttOK && minOK { passing += 1 }
        }
        print("RTT estimates: \(passing)/100 seeds within 10 %")
        #expect(passing >= 99, "\(passing)/100")
    }

    struct LossCase: Sendable, CustomTestStringConvertible {
        var model: LossModel
        var testDescription: String { "\(model)" }
    }

    /// 5 s of 1000 packets/s edge → hub, 400 seeds. The measured loss (reverse at the hub, per
    /// packet; forward at the edge, from reports) lies within 3 SE of the configured ratio,
    /// SE = √(g·p(1−p)/N), g the Gilbert variance factor (1+ρ)/(1−ρ) (4.9 at 2 %, mean burst 3, per
    /// packet; 1 for Bernoulli). A correct estimator fails that band with probability 0.27 % per
    /// seed (the sample itself strays), ~1 of 400 expected; ≥ 99 % passing allows 4.
    /// And, after the flow stops and a lossless second settles every gap, the hub's count of lost
    /// packets equals the link's drops exactly.
    @Test(arguments: [
        LossCase(model: .bernoulli(p: 0.02)),
        LossCase(model: .gilbert(lossRatio: 0.02, meanBurst: 3, clock: .perPacket)),
    ])
    func lossWithinThreeStandardErrors(_ c: LossCase) {
        let seeds = 400
        var passing = 0
        var exact = 0
        for seed in 0..<seeds {
            var pair = MonitorPair(
                seed: UInt64(seed),
                edgeToHub: .init(delay: .milliseconds(20), loss: LossProcess(model: c.model), dataRate: 1000),
                hubToEdge: .init(delay: .milliseconds(20))
            )
            pair.run(until: .zero + .seconds(5))
            pair.directions[0].dataRate = 0
            pair.directions[0].loss = LossProcess(model: .none)
            pair.run(until: .zero + .seconds(6))
            let p = c.model.lossRatio
            let se = (c.model.varianceInflation * p * (1 - p) / Double(pair.directions[0].sent)).squareRoot()
            let reverse = pair.hub.quality.reverse
            let forward = pair.edge.quality.forward
            func ratio(_ d: DirectionQuality) -> Double {
                Double(d.cumulativeLost) / Double(d.cumulativeLost + d.cumulativeReceived)
            }
            if abs(ratio(reverse) - p) <= 3 * se && abs(ratio(forward) - p) <= 3 * se { passing += 1 }
            if reverse.cumulativeLost == UInt64(pair.directions[0].dropped) { exact += 1 }
        }
        print("loss \(c.testDescription): \(passing)/\(seeds) within 3 SE, \(exact)/\(seeds) exact")
        #expect(passing * 100 >= seeds * 99, "\(passing)/\(seeds)")
        #expect(exact == seeds)
    }

    /// 50 packets/s edge → hub, one-way delay 20 ms + U(0, a), a = 10 ms (no reordering: packets are
    /// 20 ms apart). D = X_j − X_{j−1} is triangular: E|D| = a/3 = 3.33 ms, Var|D| = a²/18, and
    /// neighbouring |D| covary by a²/180. RFC 3550's J is an EWMA with α = 1/16 of |D|, so
    /// Var J = α/(2−α)·(a²/18 + 2(1−α)·a²/180) = 0.002128·a², SD = 0.461 ms. J must lie within 3 SD
    /// of a/3 at the hub and in the edge's forward view (the hub's reports), after 10 s (the start-up
    /// bias (15/16)^500 is nil).
    /// PDV p99 over a 1 s epoch of 50 packets is the maximum minus the minimum delay (rounded up to
    /// 0.1 ms): ≥ 0.7·a unless all 50 fall below 0.85·a or above 0.15·a, P ≤ 2·0.85⁵⁰ ≈ 6·10⁻⁴.
    @Test func jitterWithinThreeStandardDeviations() {
        let a = 10.0
        let expected = a / 3
        let sd = (0.002128 * a * a).squareRoot()
        var passing = 0
        for seed in 0..<100 {
            var pair = MonitorPair(
                seed: UInt64(seed),
                edgeToHub: .init(delay: .milliseconds(20), jitter: .milliseconds(10), dataRate: 50),
                hubToEdge: .init(delay: .milliseconds(20))
            )
            pair.run(until: .zero + .seconds(10))
            let reverse = pair.hub.quality.reverse
            let forward = pair.edge.quality.forward
            let ok =
                abs(reverse.jitter.milliseconds - expected) <= 3 * sd
                && abs(forward.jitter.milliseconds - expected) <= 3 * sd
                && reverse.pdvP99.milliseconds >= 0.7 * a && reverse.pdvP99.milliseconds <= a + 0.1
            if ok { passing += 1 }
        }
        print("jitter: \(passing)/100 seeds within 3 SD of \(expected) ms (SD \(sd) ms)")
        #expect(passing >= 99, "\(passing)/100")
    }
}
