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

    enum Entry {
        case event(Event)
        case timer(endpoint: Int, generation: UInt64)
    }

    public private(set) var clock = VirtualClock()
    private var queue = EventQueue<Entry>()
    private var timerGenerations: [UInt64] = []
    private var timerDeadlines: [Instant?] = []
    /// Events handed out so far (timers included), for speed reports.
    public private(set) var stepsTaken: UInt64 = 0

    public init() {}

    /// The current virtual instant.
    public var now: Instant { clock.now }

    /// Schedules `event` at `at` (not before now).
    public mutating func schedule(_ event: Event, at: Instant) {
        queue.schedule(.event(event), at: max(at, clock.now))
    }

    /// Sets endpoint `endpoint`'s single timer to `deadline` (`nil` cancels it).
    public mutating func setDeadline(_ deadline: Instant?, for endpoint: Int) {
        precondition(endpoint >= 0, "endpoint ids are small non-negative integers")
        while timerGenerations.count <= endpoint {
            timerGenerations.append(0)
            timerDeadlines.append(nil)
        }
        guard timerDeadlines[endpoint] != deadline else { return }
        timerGenerations[endpoint] &+= 1
        timerDeadlines[endpoint] = deadline
        if let deadline {
            queue.schedule(
                .timer(endpoint: endpoint, generation: timerGenerations[endpoint]),
                at: max(deadline, clock.now)
            )
        }
    }

    /// The pending deadline of `endpoint`.
    public func deadline(of endpoint: Int) -> Instant? {
        endpoint < timerDeadlines.count ? timerDeadlines[endpoint] : nil
    }

    /// Advances to the next due step at or before `end` and returns it, or `nil` when nothing is
    /// left before `end` (the clock then rests at `end`).
    public mutating func next(until end: Instant) -> (now: Instant, step: Step)? {
        while let at = queue.nextInstant, at <= end, let (_, entry) = queue.popNext() {
            switch entry {
            case .event(let event):
                clock.advance(to: at)
                stepsTaken += 1
                return (at, .event(event))
            case .timer(let endpoint, let generation):
                guard timerGenerations[endpoint] == generation else { continue }  // replaced or cancelled
                timerDeadlines[endpoint] = nil
                clock.advance(to: at)
                stepsTaken += 1
                return (at, .timer(endpoint: endpoint))
            }
        }
        if end > clock.now { clock.advance(to: end) }
        return nil
    }
}
