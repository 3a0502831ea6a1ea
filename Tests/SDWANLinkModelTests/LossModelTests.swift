import SDWANCore
import SDWANLinkModel
import Testing

/// Each loss model reproduces its configured loss ratio and burst length within tolerances from the
/// math (REFERENCE.md, "Burst loss model" and "Tolerances that do not flake").
@Suite struct LossModelTests {
    /// Bernoulli p over N packets: standard error √(p(1−p)/N); band 4 SE.
    @Test(arguments: [0.005, 0.02, 0.1])
    func bernoulliLossRatioWithinFourStandardErrors(p: Double) {
        var random = SeededRandomSource(seed: 11)
        var process = LossProcess(model: .bernoulli(p: p))
        let n = 400_000
        var lost = 0
        for i in 0..<n where process.drops(at: Instant(nanoseconds: Int64(i) * 1_000_000), using: &random) {
            lost += 1
        }
        let se = (p * (1 - p) / Double(n)).squareRoot()
        #expect(abs(Double(lost) / Double(n) - p) < 4 * se)
    }

    /// Gilbert–Elliott per packet, loss L and mean burst B: the loss ratio within 4 SE inflated by
    /// √((1+ρ)/(1−ρ)); the mean burst length 1/r within 4 SE of a geometric mean (σ = √(1−r)/r per
    /// burst, over the number of bursts seen).
    @Test(arguments: [(0.02, 3.0), (0.01, 3.0), (0.03, 5.0)])
    func gilbertPerPacketMatchesLossAndMeanBurst(loss: Double, meanBurst: Double) {
        let model = LossModel.gilbert(lossRatio: loss, meanBurst: meanBurst)
        #expect(abs(model.lossRatio - loss) < 1e-12)
        var random = SeededRandomSource(seed: 12)
        var process = LossProcess(model: model)
        let n = 1_000_000
        var lost = 0
        var bursts = 0
        var previous = false
        for i in 0..<n {
            let drop = process.drops(at: Instant(nanoseconds: Int64(i)), using: &random)
            if drop {
                lost += 1
                if !previous { bursts += 1 }
            }
            previous = drop
        }
        let se = (loss * (1 - loss) / Double(n) * model.varianceInflation).squareRoot()
        #expect(abs(Double(lost) / Double(n) - loss) < 4 * se)
        let r = 1 / meanBurst
        let burstSE = (1 - r).squareRoot() / r / Double(bursts).squareRoot()
        #expect(abs(Double(lost) / Double(bursts) - meanBurst) < 4 * burstSE)
    }

    /// A time-clocked chain keeps its loss ratio whatever the packet spacing, and packets closer
    /// than one step share a state (so bursts are measured in time, not packets).
    @Test func gilbertPerIntervalKeepsLossRatioAcrossPacketRates() {
        let model = LossModel.gilbert(lossRatio: 0.02, meanBurst: 3, clock: .perInterval(.milliseconds(10)))
        for spacingMs: Int64 in [10, 50] {
            var random = SeededRandomSource(seed: 13)
            var process = LossProcess(model: model)
            let n = 400_000
            var lost = 0
            for i in 0..<n where process.drops(at: Instant.zero + .milliseconds(Int64(i) * spacingMs), using: &random) {
                lost += 1
            }
            // At 10 ms spacing samples are the chain's own steps (inflation 1+ρ/1−ρ); at 50 ms they are
            // less correlated, so the same bound is conservative.
            let se = (0.02 * 0.98 / Double(n) * model.varianceInflation).squareRoot()
            #expect(abs(Double(lost) / Double(n) - 0.02) < 4 * se, "spacing \(spacingMs) ms")
        }
        var random = SeededRandomSource(seed: 14)
        var process = LossProcess(model: .gilbertElliott(p: 0.5, r: 0.5, clock: .perInterval(.seconds(1))))
        let first = process.drops(at: .zero, using: &random)
        for ms: Int64 in 1..<100 {
            #expect(process.drops(at: .zero + .milliseconds(ms * 5), using: &random) == first)
        }
    }

    @Test func noLossModelNeverDrops() {
        var random = SeededRandomSource(seed: 1)
        var process = LossProcess(model: .none)
        for i in 0..<10_000 { #expect(!process.drops(at: Instant(nanoseconds: Int64(i)), using: &random)) }
    }
}
