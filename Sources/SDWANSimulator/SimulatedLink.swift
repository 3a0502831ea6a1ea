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
    private var random: SeededRandomSource

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
        _ datagram: Datagram,
        size: Int,
        at now: Instant,
        into queue: inout Queue,
        deliver: (Datagram) -> Queue.Event
    ) -> LinkVerdict {
        let verdict = model.offer(size: size, at: now, using: &random)
        switch verdict {
        case .deliver(let at):
            queue.schedule(deliver(datagram), at: at)
        case .deliverTwice(let first, let second):
            queue.schedule(deliver(datagram), at: first)
            queue.schedule(deliver(datagram), at: second)
        case .dropped:
            break
        }
        return verdict
    }

    /// External overrides (the scenario timeline).
    public mutating func cut() { model.cut() }
    public mutating func restore() { model.restore() }
    public mutating func setLoss(_ loss: LossModel) { model.setLoss(loss) }
    public mutating func setDelay(base: TimeSpan, jitter: JitterDistribution? = nil) {
        model.setDelay(base: base, jitter: jitter)
    }
}
