import SDWANCore

/// The random part of a link direction's one-way delay, added to its base delay.
///
/// A packet's propagation delay is `max(0, base + J)` with J drawn from the distribution below
/// (docs/simulator.md, "Delay and jitter"). The symmetric distributions keep the mean at `base`
/// (as long as `base` is several standard deviations above zero, so the clamp never bites); the
/// one-sided ones only ever add delay, as queues in the path do.
public enum JitterDistribution: Hashable, Sendable {
    /// No jitter: every packet takes exactly the base delay.
    case none
    /// J uniform in [−halfWidth, +halfWidth]: mean 0, variance halfWidth²/3 (netem's default shape).
    case uniform(halfWidth: TimeSpan)
    /// J normal with mean 0 and standard deviation `std` (Box–Muller, polar form: `NormalDeviates`).
    case normal(std: TimeSpan)
    /// J exponential with mean `mean` (standard deviation also `mean`): a one-sided queueing tail.
    case exponential(mean: TimeSpan)
    /// J Pareto type II (Lomax) with scale `scale` and shape α: J = scale·(U^(−1/α) − 1) ≥ 0,
    /// P(J > x) = (1 + x/scale)^(−α), mean scale/(α − 1) for α > 1, variance
    /// scale²·α/((α − 1)²(α − 2)) for α > 2, median scale·(2^(1/α) − 1). A heavy tail: rare
    /// spikes far above the mean, as seen on loaded cellular and Wi-Fi hops.
    case pareto(scale: TimeSpan, shape: Double)

    /// The mean of J in nanoseconds (before the clamp at zero total delay); infinite for a Pareto
    /// shape ≤ 1.
    public var meanNanoseconds: Double {
        switch self {
        case .none, .uniform, .normal: 0
        case .exponential(let mean): Double(mean.nanoseconds)
        case .pareto(let scale, let shape): shape > 1 ? Double(scale.nanoseconds) / (shape - 1) : .infinity
        }
    }

    /// The standard deviation of J in nanoseconds; infinite for a Pareto shape ≤ 2.
    public var standardDeviationNanoseconds: Double {
        switch self {
        case .none: 0
        case .uniform(let h): Double(h.nanoseconds) / 3.0.squareRoot()
        case .normal(let std): Double(std.nanoseconds)
        case .exponential(let mean): Double(mean.nanoseconds)
        case .pareto(let scale, let a):
            a > 2 ? Double(scale.nanoseconds) / (a - 1) * (a / (a - 2)).squareRoot() : .infinity
        }
    }

    /// One draw of J, in nanoseconds (may be negative for the symmetric shapes). `normals` keeps
    /// the second deviate of each normal pair (one per link direction).
    public func sampleNanoseconds(using random: inout some RandomSource, normals: inout NormalDeviates) -> Int64 {
        switch self {
        case .none:
            return 0
        case .uniform(let h):
            return WholeNumbers.nearest((2 * random.nextUnitDouble() - 1) * Double(h.nanoseconds))
        case .normal(let std):
            return WholeNumbers.nearest(normals.next(using: &random) * Double(std.nanoseconds))
        case .exponential(let mean):
            return WholeNumbers.nearest(random.nextStandardExponential() * Double(mean.nanoseconds))
        case .pareto(let scale, let shape):
            // Inverse transform: U in (0, 1], U^(−1/α) = e^(−ln U / α). Capped at an hour so a
            // tiny U cannot overflow Int64.
            let factor = LinkMath.exp(-LinkMath.log(random.nextOpenUnitDouble()) / shape) - 1
            return WholeNumbers.nearest(min(factor * Double(scale.nanoseconds), 3.6e12))
        }
    }
}

/// Whether jitter may reorder packets.
public enum DelayOrdering: Hashable, Sendable {
    /// A packet never arrives before one sent earlier on the same direction: its delivery is
    /// `max(own delivery, previous delivery)`, as on a single FIFO path. This adds delay to packets
    /// that would have overtaken, so the delay distribution seen is no longer exactly the jitter's.
    case fifo
    /// Each packet keeps its own drawn delay, so a packet with a small draw overtakes earlier ones
    /// with large draws (netem's behaviour with jitter and no rate).
    case allowReordering
}

/// Holding back a fraction of packets so that later ones overtake them.
public struct Reordering: Hashable, Sendable {
    /// Probability that a packet is held back.
    public var probability: Double
    /// Extra delay given to a held-back packet; later packets sent within this span overtake it.
    public var extraDelay: TimeSpan

    public init(probability: Double, extraDelay: TimeSpan) {
        precondition(probability >= 0 && probability <= 1, "reordering probability in [0, 1]")
        precondition(extraDelay >= .zero, "reordering delay ≥ 0")
        self.probability = probability
        self.extraDelay = extraDelay
    }
}
