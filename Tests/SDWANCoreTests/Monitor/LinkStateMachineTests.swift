import SDWANCore
import Testing

@Suite struct LinkStateMachineTests {
    static func at(_ ms: Int64) -> Instant { .zero + .milliseconds(ms) }

    @Test func failFastRecoverSlow() {
        var machine = LinkStateMachine(configuration: .init(recoveryRun: 5, maxChangesPerMinute: 10))
        let first = machine.evaluate(now: Self.at(0), forwardAlive: true, reverseAlive: true, breach: nil, tick: true)
        #expect(first?.to == .up && first?.reason == .firstContact)
        let degrade = machine.evaluate(
            now: Self.at(100),
            forwardAlive: true,
            reverseAlive: true,
            breach: .loss(.forward),
            tick: true
        )
        #expect(degrade?.to == .degraded && degrade?.reason == .slaBreach(.loss(.forward)))
        for i in 1...4 {
            let e = machine.evaluate(
                now: Self.at(100 + Int64(i) * 100),
                forwardAlive: true,
                reverseAlive: true,
                breach: nil,
                tick: true
            )
            #expect(e == nil)
        }
        let back = machine.evaluate(now: Self.at(600), forwardAlive: true, reverseAlive: true, breach: nil, tick: true)
        #expect(back?.to == .up && back?.reason == .recovered && back?.now == Self.at(600))
    }

    @Test func silenceIsDownAtOnceWithItsReason() {
        var machine = LinkStateMachine()
        _ = machine.evaluate(now: Self.at(0), forwardAlive: true, reverseAlive: true, breach: nil, tick: true)
        let down = machine.evaluate(now: Self.at(50), forwardAlive: false, reverseAlive: true, breach: nil, tick: false)
        #expect(down?.to == .down && down?.reason == .forwardSilent)
        // Between ticks nothing counts towards recovery.
        #expect(
            machine.evaluate(now: Self.at(60), forwardAlive: true, reverseAlive: true, breach: nil, tick: false) == nil
        )
        #expect(machine.status == .down)
    }

    /// At most N changes in any 60 s; `down` is never held back (and counts).
    @Test func changesAreRateLimitedButDownIsNot() {
        var machine = LinkStateMachine(configuration: .init(recoveryRun: 1, maxChangesPerMinute: 3))
        // Three changes: up, degraded, up.
        var t: Int64 = 0
        _ = machine.evaluate(now: Self.at(t), forwardAlive: true, reverseAlive: true, breach: nil, tick: true)
        t += 100
        _ = machine.evaluate(now: Self.at(t), forwardAlive: true, reverseAlive: true, breach: .latency, tick: true)
        t += 100
        _ = machine.evaluate(now: Self.at(t), forwardAlive: true, reverseAlive: true, breach: nil, tick: true)
        t += 100
        let held = machine.evaluate(
            now: Self.at(t),
            forwardAlive: true,
            reverseAlive: true,
            breach: .latency,
            tick: true
        )
        #expect(held == nil && machine.status == .up)
        let down = machine.evaluate(now: Self.at(t), forwardAlive: false, reverseAlive: false, breach: nil, tick: false)
        #expect(down?.to == .down && down?.reason == .bothSilent)
        // Four changes at 0, 100, 200 and 300 ms (the down counts): the next fits once the third
        // newest (100 ms) is a minute old, at 60.1 s; recovery needs a tick with both alive.
        let early = machine.evaluate(
            now: Self.at(60_050),
            forwardAlive: true,
            reverseAlive: true,
            breach: nil,
            tick: true
        )
        #expect(early == nil)
        let later = machine.evaluate(
            now: Self.at(60_100),
            forwardAlive: true,
            reverseAlive: true,
            breach: nil,
            tick: true
        )
        #expect(later?.to == .up)
    }
}
