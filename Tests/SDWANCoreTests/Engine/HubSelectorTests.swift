import SDWANCore
import Testing

/// The edge's hub choice (docs/operations.md "Failover between hubs"): first usable hub, failover
/// at once, failback after the hold-down, hold-down doubled under flapping.
struct HubSelectorTests {
    static let config = HubSelector.Configuration(holdDown: .seconds(10), maxHoldDown: .seconds(40))

    /// Feeds `usable` at `seconds` and returns the switch.
    static func step(_ s: inout HubSelector, _ usable: [Bool], at seconds: Int64) -> HubSelector.Switch? {
        s.update(usable: { usable[$0] }, now: Instant(nanoseconds: seconds * 1_000_000_000))
    }

    @Test func noHubIsActiveUntilOneIsUsableAndPacketsAimAtTheFirst() {
        var s = HubSelector(hubs: 2, configuration: Self.config)
        #expect(Self.step(&s, [false, false], at: 0) == nil)
        #expect(s.active == nil && s.target == 0)
        let first = Self.step(&s, [true, true], at: 1)
        #expect(first == HubSelector.Switch(from: nil, to: 0, reason: .firstUsable))
    }

    @Test func failoverIsImmediateAndFailbackWaitsForTheHoldDown() {
        var s = HubSelector(hubs: 3, configuration: Self.config)
        _ = Self.step(&s, [true, true, true], at: 0)
        // Primary and secondary both lost: straight to the third.
        #expect(
            Self.step(&s, [false, false, true], at: 5) == HubSelector.Switch(from: 0, to: 2, reason: .activeUnusable)
        )
        // Secondary back at 6, primary at 8: the secondary's hold-down ends first (16), then the primary's (18).
        #expect(Self.step(&s, [false, true, true], at: 6) == nil)
        #expect(Self.step(&s, [true, true, true], at: 8) == nil)
        #expect(s.nextDeadline() == Instant(nanoseconds: 16_000_000_000))
        #expect(Self.step(&s, [true, true, true], at: 15) == nil)
        #expect(
            Self.step(&s, [true, true, true], at: 16) == HubSelector.Switch(from: 2, to: 1, reason: .preferredBack)
        )
        #expect(Self.step(&s, [true, true, true], at: 17) == nil)
        #expect(
            Self.step(&s, [true, true, true], at: 18) == HubSelector.Switch(from: 1, to: 0, reason: .preferredBack)
        )
        #expect(s.nextDeadline() == nil)
        #expect(s.switches == 4)
    }

    @Test func aBreakRestartsTheHoldDown() {
        var s = HubSelector(hubs: 2, configuration: Self.config)
        _ = Self.step(&s, [true, true], at: 0)
        _ = Self.step(&s, [false, true], at: 1)
        _ = Self.step(&s, [true, true], at: 2)
        _ = Self.step(&s, [false, true], at: 9)  // primary flickers before its 10 s are up
        #expect(Self.step(&s, [true, true], at: 10) == nil)
        #expect(Self.step(&s, [true, true], at: 19) == nil)
        #expect(Self.step(&s, [true, true], at: 20)?.to == 0)
    }

    @Test func flappingDoublesTheHoldDownUpToItsMaximumAndAStableReturnResetsIt() {
        var s = HubSelector(hubs: 2, configuration: Self.config)
        _ = Self.step(&s, [true, true], at: 0)
        var t: Int64 = 1
        var holdDowns: [TimeSpan] = []
        // Each cycle: primary fails, comes back, traffic returns after the hold-down, fails 1 s later.
        for _ in 0..<4 {
            _ = Self.step(&s, [false, true], at: t)
            holdDowns.append(s.holdDown)
            _ = Self.step(&s, [true, true], at: t + 1)
            let back = t + 1 + s.holdDown.nanoseconds / 1_000_000_000
            #expect(Self.step(&s, [true, true], at: back - 1) == nil)
            #expect(Self.step(&s, [true, true], at: back)?.to == 0)
            t = back + 1
        }
        #expect(holdDowns == [.seconds(10), .seconds(20), .seconds(40), .seconds(40)])
        // Stable on the primary for maxHoldDown: the hold-down is back to its base.
        _ = Self.step(&s, [true, true], at: t + 40)
        #expect(s.holdDown == .seconds(10))
    }

    @Test func withNoHubUsableTheActiveOneIsKept() {
        var s = HubSelector(hubs: 2, configuration: Self.config)
        _ = Self.step(&s, [true, false], at: 0)
        #expect(Self.step(&s, [false, false], at: 1) == nil)
        #expect(s.active == 0)
    }

    @Test func relistFollowsTheActiveHubByIndexAndForgetsRemovedOnes() {
        var s = HubSelector(hubs: 2, configuration: Self.config)
        _ = Self.step(&s, [false, true], at: 0)
        #expect(s.active == 1)
        s.relist([nil, 1])  // a new first hub, the active one kept second
        #expect(s.active == 1)
        s.relist([0])  // the active hub removed
        #expect(s.active == nil)
        #expect(Self.step(&s, [true], at: 1)?.to == 0)
    }
}
