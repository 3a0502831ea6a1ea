import SDWANCore
import SDWANLinkModel

/// The model fields of one link direction as written, each optional, so that a preset, the link's
/// symmetric fields and its `up:`/`down:` fields can be layered in that order before the result
/// becomes a `LinkDirectionParameters`.
struct DirectionSettings: Hashable, Sendable {
    enum RateSetting: Hashable, Sendable {
        case unlimited
        case bitsPerSecond(Int64)
    }

    enum QueueSetting: Hashable, Sendable {
        case packets(Int)
        case bytes(Int)
        /// As much as the rate drains in this span: bytes = rate·span/8.
        case time(TimeSpan)
        case unlimited
    }

    /// Queue when a rate is given without one: 50 ms at the rate (a common buffer sizing rule;
    /// enough for a few packets at 1 Mbit/s, and bloat-free enough at 100 Mbit/s).
    static let defaultQueue = QueueSetting.time(.milliseconds(50))

    var delay: TimeSpan?
    var jitter: JitterDistribution?
    var ordering: DelayOrdering?
    var loss: LossModel?
    var rate: RateSetting?
    var queue: QueueSetting?
    var mtu: Int?
    var duplicate: Double?
    var reorder: Reordering??
    var schedules: [ScheduledImpairment]?

    /// `other`'s fields replace this one's where `other` has them.
    func overridden(by other: DirectionSettings) -> DirectionSettings {
        var result = self
        if let v = other.delay { result.delay = v }
        if let v = other.jitter { result.jitter = v }
        if let v = other.ordering { result.ordering = v }
        if let v = other.loss { result.loss = v }
        if let v = other.rate { result.rate = v }
        if let v = other.queue { result.queue = v }
        if let v = other.mtu { result.mtu = v }
        if let v = other.duplicate { result.duplicate = v }
        if let v = other.reorder { result.reorder = v }
        if let v = other.schedules { result.schedules = v }
        return result
    }

    /// The link model parameters these settings describe.
    var parameters: LinkDirectionParameters {
        var rateLimit: RateLimit?
        if case .bitsPerSecond(let bps) = rate {
            let limit: QueueLimit
            switch queue ?? Self.defaultQueue {
            case .packets(let n): limit = .packets(n)
            case .bytes(let n): limit = .bytes(n)
            case .unlimited: limit = .unlimited
            case .time(let span):
                // At least one 1500-byte packet, or nothing full-size would ever fit.
                limit = .bytes(max(1500, Int(Double(bps) * span.seconds / 8)))
            }
            rateLimit = RateLimit(bitsPerSecond: bps, queueLimit: limit)
        }
        return LinkDirectionParameters(
            baseDelay: delay ?? .zero,
            jitter: jitter ?? .none,
            ordering: ordering ?? .fifo,
            loss: loss ?? .none,
            rate: rateLimit,
            mtu: mtu,
            duplication: duplicate ?? 0,
            reordering: reorder ?? nil,
            schedules: schedules ?? []
        )
    }
}
