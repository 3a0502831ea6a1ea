import SDWANCore

/// What the edge's path monitor said about one link, beside the timeline's truth: its status
/// changes and, for every cut the timeline made, when the cut was detected and when traffic left.
struct LinkObservation {
    struct StateChange {
        var at: Instant
        var to: LinkStatus
        var reason: LinkStatusReason
    }

    struct Blackout {
        var started: Instant
        var ended: Instant?
        var detected: Instant?
        var steered: Instant?
    }

    let name: String
    var stateChanges: [StateChange] = []
    var blackouts: [Blackout] = []
    /// Directions currently cut by the timeline (up, down).
    var cutUp = false
    var cutDown = false

    init(name: String) { self.name = name }

    var isBlackedOut: Bool { cutUp || cutDown }

    /// A blackout is open and traffic has not yet left the link.
    var awaitingSteer: Bool {
        guard let last = blackouts.last else { return false }
        return last.ended == nil && last.steered == nil
    }

    mutating func record(_ event: LinkEvent) {
        stateChanges.append(StateChange(at: event.now, to: event.to, reason: event.reason))
        if event.to == .down, let last = blackouts.indices.last, blackouts[last].ended == nil,
            blackouts[last].detected == nil
        {
            blackouts[last].detected = event.now
        }
    }

    /// The timeline cut or restored a direction at `now`.
    mutating func setCut(up: Bool?, down: Bool?, at now: Instant, carryingTraffic: Bool) {
        let before = isBlackedOut
        if let up { cutUp = up }
        if let down { cutDown = down }
        if !before && isBlackedOut {
            blackouts.append(Blackout(started: now, steered: carryingTraffic ? nil : now))
        } else if before && !isBlackedOut, let last = blackouts.indices.last {
            blackouts[last].ended = now
        }
    }

    mutating func steered(at now: Instant) {
        if let last = blackouts.indices.last, blackouts[last].steered == nil { blackouts[last].steered = now }
    }
}
