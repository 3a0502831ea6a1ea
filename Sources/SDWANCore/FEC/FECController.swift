/// Chooses one class's FEC setting from measured loss (docs/fec.md, "Adaptation").
///
/// With random loss p, k data members and one parity, a member stays lost with probability
/// p_res = p·[1 − (1 − p)^k] (REFERENCE.md, RFC 5109 single-parity XOR); the overhead is 1/k. The
/// controller picks the largest k (least overhead) that brings p_res down to the target, within
/// the class's overhead cap, or turns FEC off when p alone meets the target.
///
/// Hysteresis: more redundancy applies at once (on fast); less redundancy — a larger k or off —
/// only after it has been enough for a whole quiet period. Self-inflicted loss: when the caller
/// says the loss is congestion (a link at its shaped capacity, or queueing loss), redundancy is
/// never raised, since parity would add to the load that causes the loss.
public struct FECController: Sendable {
    /// The FEC setting of a class.
    public enum Setting: Sendable, Equatable {
        case off
        case on(groupSize: Int)

        /// Parity packets per data packet.
        public var overhead: Double {
            switch self {
            case .off: 0
            case .on(let k): 1 / Double(k)
            }
        }
    }

    public struct Configuration: Sendable, Equatable {
        /// The residual loss the class aims for (e.g. 0.001 for voice).
        public var residualTarget: Double
        /// Group sizes to choose from.
        public var groupSizes: [Int]
        /// The most parity per data packet the class may spend (1/k ≤ cap).
        public var overheadCap: Double
        /// How long less redundancy must suffice before it is applied.
        public var quietPeriod: TimeSpan

        public init(
            residualTarget: Double = 0.001,
            groupSizes: [Int] = [2, 3, 4, 5, 6, 8, 10],
            overheadCap: Double = 0.5,
            quietPeriod: TimeSpan = .seconds(30)
        ) {
            self.residualTarget = residualTarget
            self.groupSizes = groupSizes
            self.overheadCap = overheadCap
            self.quietPeriod = quietPeriod
        }
    }

    public let configuration: Configuration
    public private(set) var setting: Setting = .off
    /// Since when less redundancy than the current setting has sufficed, and the most redundancy
    /// the loss has called for since then (what is applied when the quiet period ends).
    private var lowerSince: Instant?
    private var lowerPeak: Setting = .off

    public init(configuration: Configuration = Configuration()) {
        precondition(configuration.groupSizes.allSatisfy { $0 >= 1 && $0 <= FECLimits.maxGroupSize })
        precondition(configuration.residualTarget > 0 && configuration.overheadCap > 0)
        self.configuration = configuration
    }

    /// p·[1 − (1 − p)^k].
    @inlinable
    public static func residualLoss(p: Double, groupSize k: Int) -> Double {
        var survive = 1.0
        for _ in 0..<k { survive *= 1 - p }
        return p * (1 - survive)
    }

    /// The setting the loss alone calls for: off when p meets the target, else the largest
    /// allowed k that meets it, else the smallest allowed k (the most the cap permits).
    public func desiredSetting(lossRatio p: Double) -> Setting {
        if p <= configuration.residualTarget { return .off }
        let allowed = configuration.groupSizes.filter { 1 / Double($0) <= configuration.overheadCap + 1e-12 }.sorted()
        guard let smallest = allowed.first else { return .off }
        let meeting = allowed.filter { Self.residualLoss(p: p, groupSize: $0) <= configuration.residualTarget }
        return .on(groupSize: meeting.last ?? smallest)
    }

    /// Feeds one loss estimate for the class's links. `congestion`: the loss is self-inflicted (a
    /// link at its shaped capacity); redundancy is then not raised. Returns the setting to apply.
    public mutating func update(lossRatio: Double, congestion: Bool, now: Instant) -> Setting {
        let desired = desiredSetting(lossRatio: lossRatio)
        if desired.overhead > setting.overhead {
            // On fast; never on self-inflicted loss.
            lowerSince = nil
            if !congestion { setting = desired }
        } else if desired.overhead < setting.overhead {
            // Off (or a larger k) only after a whole quiet period in which it sufficed.
            if let since = lowerSince {
                if desired.overhead > lowerPeak.overhead { lowerPeak = desired }
                if now - since >= configuration.quietPeriod {
                    setting = lowerPeak
                    lowerSince = nil
                }
            } else {
                lowerSince = now
                lowerPeak = desired
            }
        } else {
            lowerSince = nil
        }
        return setting
    }
}
