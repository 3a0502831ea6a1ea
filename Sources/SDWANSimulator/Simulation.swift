import SDWANCore

/// The discrete-event loop: a virtual clock, one queue of events, and a timer per endpoint.
///
/// The loop is a step function, not a callback runner, so the driver owns the engines and links
/// and there is no re-entrancy:
///
/// ```swift
/// while let (now, step) = simulation.next(until: end) {
///     switch step {
///     case .event(.datagram(let d, to: let node)): engines[node].handleDatagram(d, now: now)
///     case .event(...): ...                          // timeline actions, traffic arrivals
///     case .timer(let node): engines[node].handleTimeout(now: now)
///     }
///     // then, for the endpoint that just ran, drain its outputs in the documented order
///     // (quinn-proto's contract): every poll…() transmit goes to its SimulatedLink.send(…), and
///     simulation.setDeadline(engines[node].nextDeadline(), for: node)
/// }
/// ```
///
/// Rules (docs/simulator.md, "Event loop"): time only moves forward, to the earliest pending
/// instant; events at the same instant run in the order they were scheduled; an endpoint has at
/// most one pending timer, replaced whenever its deadline is set again (stale timers are skipped,
/// never delivered); a deadline in the past fires at the current instant.
public struct Simulation<Event>: EventScheduling {
    /// What the loop hands to the driver.
    public enum Step {
        /// A scheduled event is due.
        case event(Event)
        /// Endpoint `endpoint`'s deadline has come.
        case timer(endpoint: Int)
    }

    /// An endpoint's pending timer: the deadline asked for, the instant it fires (not before the
    /// moment it was set) and the sequence number it took then, so it runs among events of the
    /// same instant in the order it was set.
    private struct Timer {
        var deadline: Instant
        var at: Instant
        var sequence: UInt64

        func precedes(_ at: Instant, _ sequence: UInt64) -> Bool {
            self.at < at || (self.at == at && self.sequence < sequence)
        }
    }

    public private(set) var clock = VirtualClock()
    private var queue = EventQueue<Event>()
    /// Timers live beside the queue, not in it: an engine's deadline is set again after every
    /// input, and a queued timer per change left the heap full of stale entries to sift past.
    private var timers: [Timer?] = []
    /// The endpoint whose timer comes first, kept up to date as timers change.
    private var earliestTimer: Int?
    /// Events handed out so far (timers included), for speed reports.
    public private(set) var stepsTaken: UInt64 = 0

    public init() {}

    /// The current virtual instant.
    public var now: Instant { clock.now }

    /// Schedules `event` at `at` (not before now).
    public mutating func schedule(_ event: consuming Event, at: Instant) {
        queue.schedule(consume event, at: max(at, clock.now))
    }

    /// Schedules `event` at `at` (not before now) in lane `lane` (`EventQueue`'s lanes: same
    /// order, cheaper for a stream scheduled mostly in time order).
    public mutating func schedule(_ event: consuming Event, at: Instant, lane: Int) {
        queue.schedule(consume event, at: max(at, clock.now), lane: lane)
    }

    /// A new lane of the event queue.
    public mutating func makeLane() -> Int { queue.makeLane() }

    /// Sets endpoint `endpoint`'s single timer to `deadline` (`nil` cancels it).
    public mutating func setDeadline(_ deadline: Instant?, for endpoint: Int) {
        precondition(endpoint >= 0, "endpoint ids are small non-negative integers")
        while timers.count <= endpoint { timers.append(nil) }
        guard timers[endpoint]?.deadline != deadline else { return }
        guard let deadline else {
            timers[endpoint] = nil
            if earliestTimer == endpoint { findEarliestTimer() }
            return
        }
        let timer = Timer(deadline: deadline, at: max(deadline, clock.now), sequence: queue.takeSequence())
        timers[endpoint] = timer
        if let e = earliestTimer, e != endpoint {
            if let current = timers[e], !timer.precedes(current.at, current.sequence) { return }
            earliestTimer = endpoint
        } else if earliestTimer == endpoint {
            findEarliestTimer()
        } else {
            earliestTimer = endpoint
        }
    }

    private mutating func findEarliestTimer() {
        earliestTimer = nil
        var best: Timer?
        for e in timers.indices {
            guard let t = timers[e] else { continue }
            if best == nil || t.precedes(best!.at, best!.sequence) {
                best = t
                earliestTimer = e
            }
        }
    }

    /// The pending deadline of `endpoint`.
    public func deadline(of endpoint: Int) -> Instant? {
        endpoint < timers.count ? timers[endpoint]?.deadline : nil
    }

    /// Advances to the next due step at or before `end` and returns it, or `nil` when nothing is
    /// left before `end` (the clock then rests at `end`).
    public mutating func next(until end: Instant) -> (now: Instant, step: Step)? {
        let event = queue.nextKey
        if let e = earliestTimer, let timer = timers[e], timer.at <= end,
            event.map({ timer.precedes($0.at, $0.sequence) }) ?? true
        {
            timers[e] = nil
            findEarliestTimer()
            clock.advance(to: timer.at)
            stepsTaken += 1
            return (timer.at, .timer(endpoint: e))
        }
        if let event, event.at <= end, let (at, payload) = queue.popNext() {
            clock.advance(to: at)
            stepsTaken += 1
            return (at, .event(payload))
        }
        if end > clock.now { clock.advance(to: end) }
        return nil
    }
}
