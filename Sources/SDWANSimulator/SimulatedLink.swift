import SDWANCore
import SDWANLinkModel

/// One direction of a simulated WAN link: a `LinkDirectionModel` with its own seeded generator,
/// turning each datagram sent into zero, one or two delivery events in the simulation's queue.
///
/// The same model code runs in the WAN emulator in real time; here delivery is an event at the
/// verdict's instant.
public struct SimulatedLink<Datagram> {
    /// The model with its ground-truth counters.
    public private(set) var model: LinkDirectionModel
    /// One-way delays of the packets delivered (the model's truth, for reports).
    public private(set) var delays = DelayTruth()
    private var random: SeededRandomSource
    /// The event queue's lane this direction's deliveries go into (`nil`: none).
    public var lane: Int?

    /// `random` should be this direction's own stream (`SeededRandomSource.derived(_:)`), so that
    /// adding a link does not change the draws of the others.
    public init(_ parameters: LinkDirectionParameters, random: SeededRandomSource, scheduleSalt: UInt64? = nil) {
        self.model = LinkDirectionModel(parameters, scheduleSalt: scheduleSalt)
        self.random = random
    }

    /// Offers `datagram` of `size` bytes at `now` and schedules `deliver(datagram)` at each delivery
    /// instant (twice for a duplicate, never for a drop). Returns the verdict for the caller's
    /// accounting.
    @discardableResult
    public mutating func send<Queue: EventScheduling>(
        _ datagram: consuming Datagram,
        size: Int,
        at now: Instant,
        into queue: inout Queue,
        deliver: (consuming Datagram) -> Queue.Event
    ) -> LinkVerdict {
        let verdict = model.offer(size: size, at: now, using: &random)
        switch verdict {
        case .deliver(let at):
            delays.record(at - now)
            schedule(deliver(consume datagram), at: at, into: &queue)
        case .deliverTwice(let first, let second):
            delays.record(first - now)
            schedule(deliver(copy datagram), at: first, into: &queue)
            schedule(deliver(consume datagram), at: second, into: &queue)
        case .dropped:
            break
        }
        return verdict
    }

    /// Schedules `event` in this direction's lane when it has one.
    @inline(__always)
    private func schedule<Queue: EventScheduling>(_ event: consuming Queue.Event, at: Instant, into queue: inout Queue)
    {
        if let lane {
            queue.schedule(consume event, at: at, lane: lane)
        } else {
            queue.schedule(consume event, at: at)
        }
    }

    /// External overrides (the scenario timeline).
    public mutating func cut() { model.cut() }
    public mutating func restore() { model.restore() }
    public mutating func setLoss(_ loss: LossModel) { model.setLoss(loss) }
    public mutating func setDelay(base: TimeSpan, jitter: JitterDistribution? = nil) {
        model.setDelay(base: base, jitter: jitter)
    }
    public mutating func setRate(_ rate: RateLimit?, at now: Instant) { model.setRate(rate, at: now) }
    public mutating func setMTU(_ mtu: Int?) { model.setMTU(mtu) }
    public mutating func setDuplication(_ probability: Double) { model.setDuplication(probability) }
}

/// A link direction's delivered one-way delays, as the model drew them: their mean and the mean
/// absolute difference between consecutive packets' delays — E|D_j − D_i|, the quantity the RFC
/// 3550 §6.4.1 estimator J ← J + (|D| − J)/16 converges to — so the monitor's jitter estimate
/// can be shown beside the truth.
public struct DelayTruth: Sendable {
    public private(set) var count: UInt64 = 0
    private var sum: Int64 = 0
    private var sumAbsoluteDifference: Int64 = 0
    private var last: Int64?

    public init() {}

    mutating func record(_ delay: TimeSpan) {
        count &+= 1
        sum &+= delay.nanoseconds
        if let last { sumAbsoluteDifference &+= abs(delay.nanoseconds - last) }
        last = delay.nanoseconds
    }

    /// Mean one-way delay.
    public var mean: TimeSpan { count == 0 ? .zero : TimeSpan(nanoseconds: sum / Int64(count)) }
    /// Mean |D| between consecutive deliveries (the interarrival jitter J's expectation).
    public var jitter: TimeSpan {
        count < 2 ? .zero : TimeSpan(nanoseconds: sumAbsoluteDifference / Int64(count - 1))
    }
}
