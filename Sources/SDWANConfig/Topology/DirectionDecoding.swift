import Foundation
import SDWANCore
import SDWANLinkModel

/// Decoding of the link-model fields (`delay`, `jitter`, `loss`, `rate`, `queue`, `mtu`,
/// `duplicate`, `reorder`, `schedules`), shared by topologies and, later, scenario timelines.
enum DirectionDecoding {
    /// The fields a direction (or a link, for both directions at once) may carry.
    static let fields = ["delay", "jitter", "loss", "rate", "queue", "mtu", "duplicate", "reorder", "schedules"]

    /// The settings present in `mapping` (absent fields stay `nil`).
    static func settings(from mapping: ConfigMapping) throws(ConfigError) -> DirectionSettings {
        var s = DirectionSettings()
        if let v = mapping["delay"] { s.delay = try nonNegativeDuration(v) }
        if let v = mapping["jitter"] {
            let (jitter, ordering) = try Self.jitter(v)
            s.jitter = jitter
            s.ordering = ordering
        }
        if let v = mapping["loss"] { s.loss = try loss(v) }
        if let v = mapping["rate"] {
            s.rate = try v.scalarText(expected: "a bit rate") == "unlimited" ? .unlimited : .bitsPerSecond(v.bitRate())
        }
        if let v = mapping["queue"] { s.queue = try queue(v) }
        if let v = mapping["mtu"] { s.mtu = try v.int(in: 68...65_535) }
        if let v = mapping["duplicate"] { s.duplicate = try v.ratio(upTo: 1, including: false) }
        if let v = mapping["reorder"] { s.reorder = .some(try reorder(v)) }
        if let v = mapping["schedules"] {
            s.schedules = try v.sequence().map { (item) throws(ConfigError) in try schedule(item) }
        }
        if s.queue != nil, case .unlimited? = s.rate {
            throw mapping["queue"]!.error(
                "a queue needs a rate",
                expected: "a `rate:` on the same direction, or no `queue:`"
            )
        }
        return s
    }

    static func nonNegativeDuration(_ v: ConfigValue) throws(ConfigError) -> TimeSpan {
        let d = try v.duration()
        guard d >= .zero else { throw v.error("a negative duration", expected: "a duration ≥ 0 (e.g. 20ms)") }
        return d
    }

    static func positiveDuration(_ v: ConfigValue) throws(ConfigError) -> TimeSpan {
        let d = try v.duration()
        guard d > .zero else { throw v.error("must be longer than zero", expected: "a duration > 0 (e.g. 10ms)") }
        return d
    }

    /// `jitter: 3ms` (normal, σ = 3 ms, FIFO), `jitter: none`, or a mapping:
    /// `{distribution: uniform|normal|exponential|pareto, width|std|mean|scale, shape, order: fifo|reorder}`.
    static func jitter(_ v: ConfigValue) throws(ConfigError) -> (JitterDistribution, DelayOrdering?) {
        if !v.isMapping {
            if try v.scalarText(expected: "a duration or a mapping") == "none" { return (.none, nil) }
            let std = try nonNegativeDuration(v)
            return (std == .zero ? .none : .normal(std: std), nil)
        }
        let m = try v.mapping(allowing: ["distribution", "width", "std", "mean", "scale", "shape", "order"])
        let ordering = try m["order"]?.choice([("fifo", DelayOrdering.fifo), ("reorder", .allowReordering)])
        let kinds = ["none", "uniform", "normal", "exponential", "pareto"]
        let kind = try m.required("distribution", expected: "one of: \(kinds.joined(separator: ", "))")
            .choice(kinds.map { ($0, $0) })
        let needed: [String: String] = [
            "uniform": "width", "normal": "std", "exponential": "mean", "pareto": "scale",
        ]
        for key in ["width", "std", "mean", "scale", "shape"] where m[key] != nil {
            let allowedHere = needed[kind] == key || (kind == "pareto" && key == "shape")
            if !allowedHere {
                throw m[key]!.error(
                    "`\(key)` does not apply to a \(kind) distribution",
                    expected: needed[kind].map { "`\($0)`" } ?? "no parameter"
                )
            }
        }
        let distribution: JitterDistribution
        switch kind {
        case "uniform":
            distribution = .uniform(
                halfWidth: try positiveDuration(
                    m.required("width", expected: "the half-width, e.g. 5ms (uniform in ±width)")
                )
            )
        case "normal":
            distribution = .normal(
                std: try positiveDuration(m.required("std", expected: "a standard deviation, e.g. 3ms"))
            )
        case "exponential":
            distribution = .exponential(mean: try positiveDuration(m.required("mean", expected: "a mean, e.g. 8ms")))
        case "pareto":
            let scale = try positiveDuration(m.required("scale", expected: "a scale, e.g. 4ms"))
            let shapeValue = try m.required("shape", expected: "a shape α > 1 (the mean is scale/(α−1))")
            let shape = try shapeValue.double()
            guard shape > 1 else {
                throw shapeValue.error("shape \(shape) gives an infinite mean", expected: "a shape α > 1")
            }
            distribution = .pareto(scale: scale, shape: shape)
        default: distribution = .none
        }
        return (distribution, ordering)
    }

    /// `loss: 1%` (independent), or `{ratio: 1%, burst: 3, clock: packet|10ms}` (Gilbert–Elliott
    /// fitted with r = 1/burst, p = L·r/(1 − L)), or `{p: 0.003, r: 0.33}` (the chain directly).
    static func loss(_ v: ConfigValue) throws(ConfigError) -> LossModel {
        if !v.isMapping {
            let ratio = try v.ratio(upTo: 1, including: false)
            return ratio == 0 ? .none : .bernoulli(p: ratio)
        }
        let m = try v.mapping(allowing: ["ratio", "burst", "clock", "p", "r"])
        var clock = LossClock.perPacket
        if let c = m["clock"] {
            clock =
                try c.scalarText(expected: "packet or a duration") == "packet"
                ? .perPacket : .perInterval(positiveDuration(c))
        }
        if m["p"] != nil || m["r"] != nil {
            for key in ["ratio", "burst"] where m[key] != nil {
                throw m[key]!.error("give either `p` and `r`, or `ratio` (and `burst`), not both")
            }
            let p = try m.required("p", expected: "P(Good → Bad) per step, in (0, 1)").ratio(upTo: 1, including: false)
            let rValue = try m.required("r", expected: "P(Bad → Good) per step, in (0, 1]")
            let r = try rValue.ratio(upTo: 1)
            guard r > 0 else { throw rValue.error("r = 0 never leaves the Bad state", expected: "r in (0, 1]") }
            return .gilbertElliott(p: p, r: r, clock: clock)
        }
        let ratio = try m.required("ratio", expected: "a loss ratio, e.g. 1%").ratio(upTo: 1, including: false)
        guard let burstValue = m["burst"] else {
            if m["clock"] != nil {
                throw m["clock"]!.error("`clock` needs a `burst`", expected: "a `burst:` (mean burst length)")
            }
            return ratio == 0 ? .none : .bernoulli(p: ratio)
        }
        let burst = try burstValue.double()
        guard burst >= 1 else {
            throw burstValue.error("mean burst \(burst) is below 1", expected: "a mean burst length ≥ 1")
        }
        return .gilbert(lossRatio: ratio, meanBurst: burst, clock: clock)
    }

    /// `queue: 100 packets`, `queue: 64kB`, `queue: 50ms` (what the rate drains in that time),
    /// `queue: unlimited`.
    static func queue(_ v: ConfigValue) throws(ConfigError) -> DirectionSettings.QueueSetting {
        let expected = "a packet count (100 packets), a size (64kB), a time at the rate (50ms) or unlimited"
        let text = try v.scalarText(expected: expected)
        if text == "unlimited" { return .unlimited }
        for suffix in [" packets", " packet", "packets", "packet"] where text.hasSuffix(suffix) {
            guard let n = Int(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n > 0 else {
                throw v.error("`\(text)` is not a positive packet count", expected: expected)
            }
            return .packets(n)
        }
        if let ns = Quantity.parseDurationNanoseconds(text), ns != 0 || text.contains("s") {
            guard ns > 0 else { throw v.error("a queue must hold something", expected: expected) }
            return .time(TimeSpan(nanoseconds: ns))
        }
        guard let bytes = Quantity.parseBytes(text) else {
            throw v.error("`\(text)` is not a queue size", expected: expected)
        }
        guard bytes > 0 else { throw v.error("a queue must hold something", expected: expected) }
        return .bytes(bytes)
    }

    /// `reorder: {ratio: 1%, delay: 5ms}` or `reorder: none`.
    static func reorder(_ v: ConfigValue) throws(ConfigError) -> Reordering? {
        if !v.isMapping, try v.scalarText(expected: "none or a mapping") == "none" { return nil }
        let m = try v.mapping(allowing: ["ratio", "delay"])
        let ratio = try m.required("ratio", expected: "the fraction of packets held back, e.g. 1%").ratio()
        let delay = try positiveDuration(m.required("delay", expected: "how long a held packet waits, e.g. 5ms"))
        return Reordering(probability: ratio, extraDelay: delay)
    }

    /// A schedule entry: periodic `{every: 15s, offset: 12s, duration: 50ms..150ms, effect: outage}`
    /// or one-off `{at: 30s, duration: 10s, effect: degrade, loss: 20%, delay: 100ms}`.
    static func schedule(_ v: ConfigValue) throws(ConfigError) -> ScheduledImpairment {
        let m = try v.mapping(allowing: ["every", "offset", "at", "duration", "effect", "loss", "delay"])
        let effectName = try m["effect"]?.choice([("outage", "outage"), ("degrade", "degrade")]) ?? "outage"
        let effect: ImpairmentEffect
        if effectName == "degrade" {
            guard m["loss"] != nil || m["delay"] != nil else {
                throw m.value.error("a degrade needs `loss` and/or `delay`", expected: "e.g. loss: 20%, delay: 100ms")
            }
            let loss = try m["loss"]?.ratio() ?? 0
            let delay = try m["delay"].map { (d) throws(ConfigError) in try nonNegativeDuration(d) } ?? .zero
            effect = .degrade(extraLoss: loss, extraDelay: delay)
        } else {
            for key in ["loss", "delay"] where m[key] != nil {
                throw m[key]!.error(
                    "`\(key)` applies only to `effect: degrade`",
                    expected: "effect: degrade, or no `\(key)`"
                )
            }
            effect = .outage
        }
        switch (m["every"], m["at"]) {
        case (let every?, nil):
            let period = try positiveDuration(every)
            let offset = try m["offset"].map { (o) throws(ConfigError) in try nonNegativeDuration(o) } ?? .zero
            let durationValue = try m.required(
                "duration",
                expected: "how long each window lasts: 100ms or a range 50ms..150ms"
            )
            let (low, high) = try durationRange(durationValue)
            guard high <= period else {
                throw durationValue.error(
                    "a window longer than its period",
                    expected: "a duration ≤ every (\(period.milliseconds) ms)"
                )
            }
            return .periodic(period: period, offset: offset, minDuration: low, maxDuration: high, effect: effect)
        case (nil, let at?):
            if let offset = m["offset"] {
                throw offset.error(
                    "`offset` applies only to periodic windows",
                    expected: "`every:` with `offset:`, or `at:` alone"
                )
            }
            let start = try nonNegativeDuration(at)
            let duration = try m["duration"].map { (d) throws(ConfigError) in try positiveDuration(d) }
            return .once(start: start, duration: duration, effect: effect)
        default:
            throw m.value.error(
                "a schedule needs exactly one of `every` (periodic) or `at` (once)",
                expected: "every: 15s or at: 30s"
            )
        }
    }

    /// `100ms` or `50ms..150ms`.
    static func durationRange(_ v: ConfigValue) throws(ConfigError) -> (TimeSpan, TimeSpan) {
        let expected = "a duration (100ms) or a range (50ms..150ms)"
        let text = try v.scalarText(expected: expected)
        let parts = text.components(separatedBy: "..")
        guard parts.count <= 2 else { throw v.error("`\(text)` is not a duration range", expected: expected) }
        let values = parts.compactMap { Quantity.parseDurationNanoseconds($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == parts.count, values.allSatisfy({ $0 > 0 }) else {
            throw v.error("`\(text)` is not a positive duration or range", expected: expected)
        }
        let low = TimeSpan(nanoseconds: values[0])
        let high = TimeSpan(nanoseconds: values[values.count - 1])
        guard low <= high else { throw v.error("the range's lower end is above its upper end", expected: expected) }
        return (low, high)
    }
}
