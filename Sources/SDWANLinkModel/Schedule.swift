import SDWANCore

/// What an impairment window does to the packets offered while it is open.
public enum ImpairmentEffect: Hashable, Sendable {
    /// Every packet is dropped (cause `.outage`): a brownout, a handover gap, a scheduled cut.
    case outage
    /// Each packet is additionally lost with probability `extraLoss` (cause `.outage`, since the
    /// window caused it) and delayed by `extraDelay` on top of everything else.
    case degrade(extraLoss: Double, extraDelay: TimeSpan)
}

/// A window of impairment fixed in the link's own time line, independent of the traffic.
///
/// Times are measured from the schedule's origin: `Instant.zero` in the simulator, the instant the
/// WAN emulator started (its monotonic clock's zero is boot, not start). Windows are half-open: `[start, start + duration)`.
public enum ScheduledImpairment: Hashable, Sendable {
    /// Opens at `offset + k·period` for every k ≥ 0 and stays open for a duration uniform in
    /// `[minDuration, maxDuration]`, drawn once per period (e.g. Starlink-like: every 15 s, for
    /// 50–150 ms). The draw for period k depends only on k and a salt drawn once, not on the
    /// traffic, so two runs with different traffic but the same seed see the same windows.
    case periodic(
        period: TimeSpan,
        offset: TimeSpan,
        minDuration: TimeSpan,
        maxDuration: TimeSpan,
        effect: ImpairmentEffect
    )
    /// Opens once at `start` for `duration` (`nil`: for the rest of the run).
    case once(start: TimeSpan, duration: TimeSpan?, effect: ImpairmentEffect)

    /// The effect of this window.
    public var effect: ImpairmentEffect {
        switch self {
        case .periodic(_, _, _, _, let effect), .once(_, _, let effect): effect
        }
    }

    /// Whether the parameters make sense (positive period, min ≤ max < period, …); the topology
    /// loader reports the same rules as errors with file and line.
    public var isValid: Bool {
        switch self {
        case .periodic(let period, let offset, let minD, let maxD, let effect):
            period > .zero && offset >= .zero && minD >= .zero && minD <= maxD && maxD <= period
                && effect.isValid
        case .once(let start, let duration, let effect):
            start >= .zero && (duration ?? .zero) >= .zero && effect.isValid
        }
    }
}

extension ImpairmentEffect {
    var isValid: Bool {
        switch self {
        case .outage: true
        case .degrade(let loss, let delay): loss >= 0 && loss <= 1 && delay >= .zero
        }
    }
}

/// The combined effect of the windows open at one instant.
public struct ActiveImpairment: Hashable, Sendable {
    /// Some open window is an outage.
    public var outage: Bool
    /// Probability that a packet is lost to the open degrade windows: 1 − Π(1 − lossᵢ).
    public var extraLoss: Double
    /// Sum of the open degrade windows' extra delays.
    public var extraDelay: TimeSpan

    public static let none = ActiveImpairment(outage: false, extraLoss: 0, extraDelay: .zero)
}

/// Evaluates a list of `ScheduledImpairment`s at packet instants.
public struct ScheduleState: Sendable {
    public let schedules: [ScheduledImpairment]
    /// The instant the windows' times count from.
    public let origin: Instant
    private var salt: UInt64?

    /// `salt` fixes every periodic window's duration; give both directions of a link the same
    /// salt so that one brownout hits both. `nil`: drawn from the generator on first use.
    public init(schedules: [ScheduledImpairment], origin: Instant = .zero, salt: UInt64? = nil) {
        precondition(schedules.allSatisfy(\.isValid), "invalid impairment schedule")
        self.schedules = schedules
        self.origin = origin
        self.salt = salt
    }

    /// The windows open at `now`. Without a salt given at init, the first call draws one from
    /// `random`.
    public mutating func active(at now: Instant, using random: inout some RandomSource) -> ActiveImpairment {
        guard !schedules.isEmpty else { return .none }
        let salt = self.salt ?? random.next()
        self.salt = salt
        var result = ActiveImpairment.none
        var keep = 1.0
        for (index, schedule) in schedules.enumerated() where Self.isOpen(schedule, index, salt, at: now - origin) {
            switch schedule.effect {
            case .outage:
                result.outage = true
            case .degrade(let loss, let delay):
                keep *= 1 - loss
                result.extraDelay = result.extraDelay + delay
            }
        }
        result.extraLoss = 1 - keep
        return result
    }

    /// The window of periodic schedule `index` in period `k`: `[start, end)`.
    public func window(_ index: Int, period k: Int64) -> (start: Instant, end: Instant)? {
        guard let salt, case .periodic(let period, let offset, let minD, let maxD, _) = schedules[index] else {
            return nil
        }
        let start = origin + offset + period * k
        return (start, start + Self.duration(minD, maxD, salt: salt, index: index, k: k))
    }

    private static func isOpen(_ schedule: ScheduledImpairment, _ index: Int, _ salt: UInt64, at t: TimeSpan) -> Bool {
        switch schedule {
        case .once(let start, let duration, _):
            guard t >= start else { return false }
            guard let duration else { return true }
            return t < start + duration
        case .periodic(let period, let offset, let minD, let maxD, _):
            guard t >= offset else { return false }
            let k = (t - offset).nanoseconds / period.nanoseconds
            let intoPeriod = (t - offset).nanoseconds - k * period.nanoseconds
            if intoPeriod >= maxD.nanoseconds { return false }
            return intoPeriod < duration(minD, maxD, salt: salt, index: index, k: k).nanoseconds
        }
    }

    /// Duration of period k: min + ⌊u·(max − min + 1 ns)⌋ with u uniform from a SplitMix64 hash of
    /// (salt, index, k), so it is a pure function of the period and needs no state per period.
    private static func duration(_ minD: TimeSpan, _ maxD: TimeSpan, salt: UInt64, index: Int, k: Int64) -> TimeSpan {
        if minD == maxD { return minD }
        var z = salt &+ UInt64(truncatingIfNeeded: k) &* 0x9E37_79B9_7F4A_7C15
        z &+= UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = Double(z >> 11) * 0x1.0p-53
        let spread = Double(maxD.nanoseconds - minD.nanoseconds + 1)
        return minD + TimeSpan(nanoseconds: Int64(u * spread))
    }
}
