import SDWANCore

/// How a modelled link loses packets (REFERENCE.md, "Burst loss model").
///
/// Pure: a loss process is driven by the send instant and a generator passed in, so the simulator
/// (virtual time) and the WAN emulator (real time) run the same code.
public enum LossModel: Hashable, Sendable {
    /// No random loss.
    case none
    /// Independent loss with probability `p` per packet.
    case bernoulli(p: Double)
    /// Gilbert–Elliott two-state chain (simple Gilbert: every packet in Bad is lost, none in Good).
    /// `p` = P(Good → Bad), `r` = P(Bad → Good) per step of `clock`. Loss ratio π = p/(p + r),
    /// mean burst length 1/r (in steps).
    case gilbertElliott(p: Double, r: Double, clock: LossClock)

    /// Fitting from a loss ratio L and mean burst B (REFERENCE.md): r = 1/B, p = L·r/(1 − L).
    public static func gilbert(lossRatio: Double, meanBurst: Double, clock: LossClock = .perPacket) -> LossModel {
        precondition(lossRatio >= 0 && lossRatio < 1 && meanBurst >= 1, "loss ratio in [0, 1), mean burst ≥ 1")
        let r = 1 / meanBurst
        return .gilbertElliott(p: lossRatio * r / (1 - lossRatio), r: r, clock: clock)
    }

    /// The long-run loss ratio.
    public var lossRatio: Double {
        switch self {
        case .none: 0
        case .bernoulli(let p): p
        case .gilbertElliott(let p, let r, _): p + r > 0 ? p / (p + r) : 0
        }
    }

    /// The factor by which the variance of a loss-ratio estimate exceeds the binomial one,
    /// (1 + ρ)/(1 − ρ) with ρ = 1 − p − r (REFERENCE.md); 1 for independent loss. Valid for a
    /// per-packet chain sampled at every step.
    public var varianceInflation: Double {
        switch self {
        case .none, .bernoulli: 1
        case .gilbertElliott(let p, let r, _):
            (2 - p - r) / (p + r)
        }
    }
}

/// What one step of a Gilbert–Elliott chain is.
public enum LossClock: Hashable, Sendable {
    /// One step per packet offered to the link (the classic packet-level model).
    case perPacket
    /// One step per fixed span of time, whatever the packet rate: the chain keeps evolving while
    /// the link is idle, so a burst has a duration rather than a packet count.
    case perInterval(TimeSpan)
}

/// The running state of a `LossModel` on one link direction.
public struct LossProcess: Sendable {
    public let model: LossModel
    private var bad = false
    private var lastStep: Instant?

    public init(model: LossModel) {
        self.model = model
    }

    /// Whether a packet offered at `now` is lost. Call once per packet, in send order.
    public mutating func drops(at now: Instant, using random: inout some RandomSource) -> Bool {
        switch model {
        case .none:
            return false
        case .bernoulli(let p):
            return random.nextUnitDouble() < p
        case .gilbertElliott(let p, let r, .perPacket):
            // Step first, then the packet sees the new state: a stationary chain gives loss π.
            bad = bad ? random.nextUnitDouble() >= r : random.nextUnitDouble() < p
            return bad
        case .gilbertElliott(let p, let r, .perInterval(let step)):
            let steps: Int64
            if let last = lastStep {
                steps = max(0, (now - last).nanoseconds / max(step.nanoseconds, 1))
                lastStep = last + step * steps
            } else {
                steps = 1
                lastStep = now
                bad = random.nextUnitDouble() < model.lossRatio
                return bad
            }
            if steps > 0 {
                // n-step transition of a two-state chain: P(Bad after n | s) = π + (s − π)(1 − p − r)^n.
                let pi = p / (p + r)
                let start: Double = bad ? 1 : 0
                let pBad = pi + (start - pi) * pow(1 - p - r, Double(steps))
                bad = random.nextUnitDouble() < pBad
            }
            return bad
        }
    }
}

/// x^n for a real base and a non-negative real exponent, without Foundation: repeated squaring on
/// the integer part (exponents here are whole step counts).
@usableFromInline
func pow(_ base: Double, _ exponent: Double) -> Double {
    var n = UInt64(max(0, exponent))
    var result = 1.0
    var b = base
    while n > 0 {
        if n & 1 == 1 { result *= b }
        b *= b
        n >>= 1
        if b == 0 { break }
    }
    return result
}
