import SDWANCore
import SDWANLinkModel
import Testing

/// Each jitter distribution reproduces its mean and spread within bands from the math. N samples
/// of a variable with standard deviation σ: the mean's SE is σ/√N; the sample variance's SE is
/// √((μ₄ − σ⁴)/N) (μ₄ the fourth central moment); a proportion's SE is √(p(1−p)/N). Bands are 4 SE.
@Suite struct JitterModelTests {
    static let n = 200_000
    static let base = TimeSpan.milliseconds(50)

    /// One-way delays (ms) of `n` packets sent 10 ms apart through a link with only delay + jitter,
    /// reordering allowed so that each packet keeps its own draw.
    static func delays(_ jitter: JitterDistribution, seed: UInt64) -> [Double] {
        var model = LinkDirectionModel(.init(baseDelay: base, jitter: jitter, ordering: .allowReordering))
        var random = SeededRandomSource(seed: seed)
        var out: [Double] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let sent = Instant.zero + .milliseconds(Int64(i) * 10)
            guard case .deliver(let at) = model.offer(size: 100, at: sent, using: &random) else {
                Issue.record("a delay-only link dropped a packet")
                return out
            }
            out.append((at - sent).milliseconds)
        }
        return out
    }

    @Test func constantDelayIsExact() {
        let d = Self.delays(.none, seed: 1)
        #expect(d.allSatisfy { $0 == 50 })
    }

    /// Normal(0, σ = 5 ms) around 50 ms: mean SE σ/√N; variance SE σ²·√(2/N) (μ₄ = 3σ⁴).
    @Test func normalJitterHasItsMeanAndStandardDeviation() {
        var m = Moments()
        for x in Self.delays(.normal(std: .milliseconds(5)), seed: 2) { m.add(x) }
        let sigma = 5.0
        let n = Double(Self.n)
        #expect(abs(m.average - 50) < 4 * sigma / n.squareRoot())
        #expect(abs(m.variance - sigma * sigma) < 4 * sigma * sigma * (2 / n).squareRoot())
    }

    /// The polar method's pairs are both used (`NormalDeviates`): consecutive draws are
    /// independent — their correlation is 0 within 4/√N (its standard error under independence is
    /// 1/√N) — and the two-sided tails are a normal's: P(|J| > σ) = 2(1 − Φ(1)) = 0.31731 and
    /// P(|J| > 2σ) = 2(1 − Φ(2)) = 0.04550, each within 4 binomial standard errors.
    @Test func normalJitterPairsAreIndependentWithNormalTails() {
        let sigma = 5.0
        let j = Self.delays(.normal(std: .milliseconds(5)), seed: 12).map { $0 - 50 }
        let n = Double(j.count)
        let mean = j.reduce(0, +) / n
        var products = 0.0
        var squares = 0.0
        for i in j.indices {
            squares += (j[i] - mean) * (j[i] - mean)
            if i > 0 { products += (j[i] - mean) * (j[i - 1] - mean) }
        }
        let correlation = products / squares
        #expect(abs(correlation) < 4 / n.squareRoot())
        let beyondOne = Double(j.filter { abs($0) > sigma }.count) / n
        let beyondTwo = Double(j.filter { abs($0) > 2 * sigma }.count) / n
        #expect(abs(beyondOne - 0.31731) < 4 * binomialStandardError(0.31731, j.count))
        #expect(abs(beyondTwo - 0.04550) < 4 * binomialStandardError(0.04550, j.count))
    }

    /// Uniform ±a, a = 10 ms: variance a²/3, μ₄ = a⁴/5, so the variance's SE is a²·√(4/(45N)).
    @Test func uniformJitterStaysInItsBandWithItsVariance() {
        var m = Moments()
        let d = Self.delays(.uniform(halfWidth: .milliseconds(10)), seed: 3)
        for x in d { m.add(x) }
        let a = 10.0
        let n = Double(Self.n)
        #expect(d.allSatisfy { $0 >= 40 && $0 <= 60 })
        #expect(abs(m.average - 50) < 4 * (a * a / 3 / n).squareRoot())
        #expect(abs(m.variance - a * a / 3) < 4 * a * a * (4 / (45 * n)).squareRoot())
    }

    /// Exponential, mean 8 ms: mean SE 8/√N; P(J > mean) = e^−1 with binomial SE.
    @Test func exponentialJitterHasItsMeanAndTail() {
        let d = Self.delays(.exponential(mean: .milliseconds(8)), seed: 4)
        var m = Moments()
        for x in d { m.add(x - 50) }
        let n = Double(Self.n)
        #expect(d.allSatisfy { $0 >= 50 })
        #expect(abs(m.average - 8) < 4 * 8 / n.squareRoot())
        let beyondMean = Double(d.count { $0 - 50 > 8 }) / n
        let p = 0.367_879_441_171_442_3  // e^−1
        #expect(abs(beyondMean - p) < 4 * binomialStandardError(p, Self.n))
    }

    /// Lomax (Pareto II), scale 4 ms, α = 3: mean 2 ms, σ² = 16·3/(4·1) = 12 ms² (finite, so the
    /// mean's SE is √(12/N)); median 4·(2^(1/3) − 1) ms and P(J > 4 ms) = 2^−3 as proportions.
    @Test func paretoJitterHasItsMeanMedianAndHeavyTail() {
        let jitter = JitterDistribution.pareto(scale: .milliseconds(4), shape: 3)
        #expect(abs(jitter.meanNanoseconds - 2e6) < 1)
        #expect(abs(jitter.standardDeviationNanoseconds - 12.0.squareRoot() * 1e6) < 1)
        let d = Self.delays(jitter, seed: 5)
        var m = Moments()
        for x in d { m.add(x - 50) }
        let n = Self.n
        #expect(abs(m.average - 2) < 4 * (12 / Double(n)).squareRoot())
        let median = 4 * (1.259_921_049_894_873_2 - 1)  // 2^(1/3) − 1
        let belowMedian = Double(d.count { $0 - 50 <= median }) / Double(n)
        #expect(abs(belowMedian - 0.5) < 4 * binomialStandardError(0.5, n))
        let beyondScale = Double(d.count { $0 - 50 > 4 }) / Double(n)
        #expect(abs(beyondScale - 0.125) < 4 * binomialStandardError(0.125, n))
    }

    /// FIFO keeps arrival order under jitter; allowing reordering does reorder (with σ = 5 ms and
    /// packets 1 ms apart, a packet overtakes its predecessor with probability P(N(0, 2σ²) > 1 ms),
    /// about 44 %, so thousands of inversions are certain).
    @Test func fifoOrderingNeverReordersAndReorderingDoes() {
        for ordering in [DelayOrdering.fifo, .allowReordering] {
            var model = LinkDirectionModel(
                .init(baseDelay: Self.base, jitter: .normal(std: .milliseconds(5)), ordering: ordering)
            )
            var random = SeededRandomSource(seed: 6)
            var last = Instant(nanoseconds: .min)
            var inversions = 0
            for i in 0..<10_000 {
                guard
                    case .deliver(let at) = model.offer(size: 100, at: .zero + .milliseconds(Int64(i)), using: &random)
                else { continue }
                if at < last { inversions += 1 }
                last = at
            }
            if ordering == .fifo { #expect(inversions == 0) } else { #expect(inversions > 1000) }
        }
    }

    /// A symmetric jitter larger than the base delay is clamped: no packet arrives before it is sent.
    @Test func jitterNeverMakesDelayNegative() {
        var model = LinkDirectionModel(
            .init(baseDelay: .milliseconds(1), jitter: .normal(std: .milliseconds(10)), ordering: .allowReordering)
        )
        var random = SeededRandomSource(seed: 7)
        for i in 0..<10_000 {
            let sent = Instant.zero + .milliseconds(Int64(i))
            let verdict = model.offer(size: 100, at: sent, using: &random)
            if case .deliver(let at) = verdict { #expect(at >= sent) }
        }
    }
}
