import SDWANCore
import SDWANLinkModel
import Testing

/// The composed link direction: MTU, duplication, reordering, schedules, overrides, counters and
/// determinism.
@Suite struct LinkDirectionModelTests {
    static func run(
        _ model: inout LinkDirectionModel,
        count: Int,
        spacing: TimeSpan,
        size: (Int) -> Int = { _ in 1000 },
        seed: UInt64 = 1
    ) -> [(sent: Instant, verdict: LinkVerdict)] {
        var random = SeededRandomSource(seed: seed)
        return (0..<count).map { i in
            let sent = Instant.zero + spacing * Int64(i)
            return (sent, model.offer(size: size(i), at: sent, using: &random))
        }
    }

    /// Oversize packets are dropped, every one and only those (exact).
    @Test func mtuDropsExactlyTheOversizePackets() {
        var model = LinkDirectionModel(.init(baseDelay: .milliseconds(5), mtu: 1500))
        let results = Self.run(&model, count: 3000, spacing: .milliseconds(1), size: { [1400, 1500, 1501][$0 % 3] })
        #expect(model.counters.dropped.mtu == 1000)
        #expect(model.counters.passed == 2000)
        for (i, r) in results.enumerated() { #expect((r.verdict.dropCause == .mtu) == (i % 3 == 2)) }
    }

    /// Duplication d = 5 % over N = 200 000 delivered packets: the copy count within 4 binomial SE,
    /// √(d(1−d)/N) ≈ 0.049 %; without jitter a copy arrives with its original.
    @Test func duplicationRateWithinFourStandardErrors() {
        let d = 0.05
        let n = 200_000
        var model = LinkDirectionModel(.init(baseDelay: .milliseconds(20), duplication: d))
        let results = Self.run(&model, count: n, spacing: .microseconds(100))
        let copies = Double(model.counters.duplicated) / Double(n)
        #expect(abs(copies - d) < 4 * binomialStandardError(d, n))
        for r in results {
            if case .deliverTwice(let a, let b) = r.verdict { #expect(a == b && a == r.sent + .milliseconds(20)) }
        }
    }

    /// Reordering q = 10 %, hold-back 5 ms, packets 1 ms apart, no jitter: the held fraction within
    /// 4 binomial SE; every held packet arrives exactly base + 5 ms after sending; every other packet
    /// exactly at base, so the next packet (1 ms later) overtakes each held one.
    @Test func reorderingHoldsBackItsFractionByTheExtraDelay() {
        let q = 0.1
        let n = 100_000
        var model = LinkDirectionModel(
            .init(baseDelay: .milliseconds(10), reordering: Reordering(probability: q, extraDelay: .milliseconds(5)))
        )
        let results = Self.run(&model, count: n, spacing: .milliseconds(1))
        let held = results.count { r in
            guard case .deliver(let at) = r.verdict else { return false }
            return at - r.sent == .milliseconds(15)
        }
        let onTime = results.count { r in
            guard case .deliver(let at) = r.verdict else { return false }
            return at - r.sent == .milliseconds(10)
        }
        #expect(held + onTime == n)
        #expect(UInt64(held) == model.counters.reordered)
        #expect(abs(Double(held) / Double(n) - q) < 4 * binomialStandardError(q, n))
    }

    /// Starlink-like brownout, fixed 100 ms every 15 s: with a packet every 1 ms for 60 s, exactly the
    /// packets sent in [15k s, 15k s + 100 ms) are dropped (k = 0…3): 400 drops, timing exact.
    @Test func fixedBrownoutDropsExactlyInsideItsWindows() {
        let brownout = ScheduledImpairment.periodic(
            period: .seconds(15),
            offset: .zero,
            minDuration: .milliseconds(100),
            maxDuration: .milliseconds(100),
            effect: .outage
        )
        var model = LinkDirectionModel(.init(baseDelay: .milliseconds(13), schedules: [brownout]))
        let results = Self.run(&model, count: 60_000, spacing: .milliseconds(1))
        #expect(model.counters.dropped.outage == 400)
        for r in results {
            let intoPeriod = (r.sent - Instant.zero).nanoseconds % TimeSpan.seconds(15).nanoseconds
            #expect((r.verdict.dropCause == .outage) == (intoPeriod < TimeSpan.milliseconds(100).nanoseconds))
        }
    }

    /// Windows count from the model's origin (the WAN emulator's start, not its clock's zero), and
    /// both directions given one salt see identical random windows.
    @Test func scheduleCountsFromItsOriginAndSharedSaltGivesSharedWindows() {
        let brownout = ScheduledImpairment.periodic(
            period: .seconds(15),
            offset: .seconds(12),
            minDuration: .milliseconds(50),
            maxDuration: .milliseconds(150),
            effect: .outage
        )
        let origin = Instant(nanoseconds: 987_654_321_000)
        var up = LinkDirectionModel(.init(schedules: [brownout]), origin: origin, scheduleSalt: 77)
        var down = LinkDirectionModel(.init(schedules: [brownout]), origin: origin, scheduleSalt: 77)
        var randomUp = SeededRandomSource(seed: 1)
        var randomDown = SeededRandomSource(seed: 2)
        for ms: Int64 in 0..<60_000 {
            let now = origin + .milliseconds(ms)
            let a = up.offer(size: 100, at: now, using: &randomUp).dropCause
            let b = down.offer(size: 100, at: now, using: &randomDown).dropCause
            #expect(a == b)
            let intoPeriod = (ms - 12_000) % 15_000
            if ms < 12_000 || intoPeriod >= 150 { #expect(a == nil) }
            if ms >= 12_000 && intoPeriod < 50 { #expect(a == .outage) }
        }
        #expect(up.counters.dropped.outage >= 4 * 50 && up.counters.dropped.outage <= 4 * 151)
    }

    /// Brownouts of 50–150 ms every 15 s, offset 7 s, over 1 hour (240 windows): every window starts
    /// exactly at 7 s + 15k s (the first drop, packets 1 ms apart), lasts within [50, 150] ms, and
    /// the mean duration is 100 ms within 4 SE of a uniform's (100/√12 ms / √240 ≈ 1.9 ms).
    @Test func randomBrownoutsStartOnTimeAndLastFiftyToOneHundredFiftyMilliseconds() {
        let brownout = ScheduledImpairment.periodic(
            period: .seconds(15),
            offset: .seconds(7),
            minDuration: .milliseconds(50),
            maxDuration: .milliseconds(150),
            effect: .outage
        )
        var model = LinkDirectionModel(.init(schedules: [brownout]))
        let results = Self.run(&model, count: 3_600_000, spacing: .milliseconds(1))
        var runs: [(start: Int64, length: Int)] = []
        var current: (start: Int64, length: Int)?
        for (i, r) in results.enumerated() {
            if r.verdict.dropCause == .outage {
                current = current.map { ($0.start, $0.length + 1) } ?? (Int64(i), 1)
            } else if let c = current {
                runs.append(c)
                current = nil
            }
        }
        #expect(runs.count == 240)
        var m = Moments()
        for (k, run) in runs.enumerated() {
            #expect(run.start == 7_000 + 15_000 * Int64(k))
            #expect(run.length >= 50 && run.length <= 151)
            m.add(Double(run.length))
        }
        let se = 100 / 12.0.squareRoot() / Double(runs.count).squareRoot()
        #expect(abs(m.average - 100) < 4 * se + 1, "mean brownout \(m.average) ms")
    }

    /// A one-off degrade adds its delay inside its window only, and a one-off outage drops exactly
    /// inside its window. FIFO order holds across the window's end: the packet sent at 2.999 s
    /// arrives at 3.049 s, so packets sent in [3.000, 3.039) s wait for it (39 of them), later ones
    /// see the base delay again.
    @Test func oneOffDegradeAndOutageApplyOnlyInTheirWindows() {
        let degrade = ScheduledImpairment.once(
            start: .seconds(2),
            duration: .seconds(1),
            effect: .degrade(extraLoss: 0, extraDelay: .milliseconds(40))
        )
        let outage = ScheduledImpairment.once(start: .seconds(5), duration: .milliseconds(500), effect: .outage)
        var model = LinkDirectionModel(.init(baseDelay: .milliseconds(10), schedules: [degrade, outage]))
        let results = Self.run(&model, count: 10_000, spacing: .milliseconds(1))
        for (i, r) in results.enumerated() {
            switch i {
            case 2_000..<3_000: #expect(r.verdict == .deliver(r.sent + .milliseconds(50)))
            case 5_000..<5_500: #expect(r.verdict == .dropped(.outage))
            case 3_000..<3_039: #expect(r.verdict == .deliver(.zero + .milliseconds(3_049)))
            default: #expect(r.verdict == .deliver(r.sent + .milliseconds(10)))
            }
        }
        #expect(model.counters.delayed == 1_039)
    }

    /// A cut drops everything with cause `.cut` until restored; overrides of loss and delay take
    /// effect on the next packet.
    @Test func cutRestoreAndOverridesTakeEffectImmediately() {
        var model = LinkDirectionModel(.init(baseDelay: .milliseconds(10)))
        var random = SeededRandomSource(seed: 1)
        #expect(model.offer(size: 100, at: .zero, using: &random) == .deliver(.zero + .milliseconds(10)))
        model.cut()
        #expect(model.offer(size: 100, at: .zero + .seconds(1), using: &random) == .dropped(.cut))
        model.restore()
        model.setDelay(base: .milliseconds(30))
        #expect(
            model.offer(size: 100, at: .zero + .seconds(2), using: &random) == .deliver(.zero + .milliseconds(2030))
        )
        model.setLoss(.bernoulli(p: 1))
        #expect(model.offer(size: 100, at: .zero + .seconds(3), using: &random) == .dropped(.loss))
        let c = model.counters
        #expect(c.offered == 4 && c.passed == 2 && c.dropped.cut == 1 && c.dropped.loss == 1)
    }

    /// Gilbert–Elliott loss through the composed model (L = 2 %, B = 3): the loss ratio within 4 SE
    /// inflated by √((1+ρ)/(1−ρ)), and counters add up: offered = passed + Σ drops.
    @Test func gilbertLossThroughTheComposedModelWithVarianceFactor() {
        let loss = LossModel.gilbert(lossRatio: 0.02, meanBurst: 3)
        var model = LinkDirectionModel(
            .init(baseDelay: .milliseconds(25), jitter: .normal(std: .milliseconds(2)), loss: loss)
        )
        let n = 500_000
        _ = Self.run(&model, count: n, spacing: .milliseconds(1))
        let c = model.counters
        let se = (0.02 * 0.98 / Double(n) * loss.varianceInflation).squareRoot()
        #expect(abs(Double(c.dropped.loss) / Double(n) - 0.02) < 4 * se)
        #expect(c.offered == c.passed + c.dropped.total)
    }

    /// Same seed, same verdicts; a different seed, different verdicts.
    @Test func sameSeedSameVerdictsDifferentSeedDifferent() {
        let parameters = LinkDirectionParameters(
            baseDelay: .milliseconds(20),
            jitter: .exponential(mean: .milliseconds(5)),
            loss: .gilbert(lossRatio: 0.01, meanBurst: 3),
            rate: RateLimit(bitsPerSecond: 10_000_000, queueLimit: .packets(20)),
            duplication: 0.01,
            reordering: Reordering(probability: 0.01, extraDelay: .milliseconds(3))
        )
        func verdicts(_ seed: UInt64) -> [LinkVerdict] {
            var model = LinkDirectionModel(parameters)
            return Self.run(&model, count: 20_000, spacing: .microseconds(700), seed: seed).map(\.verdict)
        }
        #expect(verdicts(9) == verdicts(9))
        #expect(verdicts(9) != verdicts(10))
    }
}
