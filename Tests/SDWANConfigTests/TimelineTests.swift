import Foundation
import SDWANConfig
import SDWANCore
import SDWANLinkModel
import Testing

/// The timeline schema: the shipped example loads and validates against its topology, events
/// expand to the documented steps, and malformed timelines are refused with file, line and field.
@Suite struct TimelineTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func shippedExampleLoadsAndNamesLinksOfItsTopology() throws {
        let topology = try Topology.load(path: Self.root.appendingPathComponent("topologies/retail-branch.yaml").path)
        let timeline = try Timeline.load(
            path: Self.root.appendingPathComponent("docs/examples/wanem-retail-failover.yaml").path
        )
        try timeline.validate(against: topology)
        #expect(timeline.events.count == 5)
        // cut, restore, 3 × (cut, restore), degrade start and end, rebind.
        #expect(timeline.steps.count == 1 + 1 + 6 + 2 + 1)
    }

    @Test func eventsExpandToSortedSteps() throws {
        let timeline = try Timeline.parse(
            """
            - { at: 10s, link: a, action: flap, period: 2s, down: 500ms, count: 2 }
            - { at: 1s, link: b, direction: up, action: degrade, duration: 3s, loss: 2%, delay: 40ms, rate: 1mbit }
            - { at: 11s, link: b, action: rebind }
            """,
            file: "t.yaml"
        )
        let steps = timeline.steps
        #expect(steps.map(\.at) == [1, 4, 10, 10.5, 11, 12, 12.5].map { TimeSpan(seconds: $0) })
        #expect(steps.map(\.link) == ["b", "b", "a", "a", "b", "a", "a"])
        guard case .degrade(let degrade) = steps[0].action else {
            Issue.record("first step is \(steps[0].action)")
            return
        }
        #expect(steps[0].direction == .up)
        #expect(degrade.loss == .bernoulli(p: 0.02))
        #expect(degrade.baseDelay == .milliseconds(40))
        // A rate without a queue gets the topology default: 50 ms at the rate.
        #expect(degrade.rate == .some(RateLimit(bitsPerSecond: 1_000_000, queueLimit: .bytes(6_250))))
        #expect(degrade.jitter == nil && degrade.mtu == nil)
        #expect(steps[1].action == .endDegrade(degrade))
        #expect(steps[2].action == .cut && steps[3].action == .restore && steps[4].action == .rebind)
    }

    @Test func aScenarioMappingCarriesItsTimelineAmongOtherFields() throws {
        let timeline = try Timeline.parse(
            """
            name: failover
            traffic: { voice: 50pps }
            timeline:
              - { at: 0, link: x, action: cut }
            """,
            file: "s.yaml"
        )
        #expect(timeline.events.map(\.action) == [.cut])
    }

    @Test(arguments: [
        ("- { at: 1s, link: a, action: explode }", "t.yaml:1:30: [0].action: `explode` is not a valid value"),
        ("- { at: -1s, link: a, action: cut }", "t.yaml:1:9: [0].at: a negative duration"),
        ("- { link: a, action: cut }", "t.yaml:1:3: [0].at: required field `at` is missing"),
        ("- { at: 1s, link: a, action: cut, period: 2s }", "[0].period: `period` applies only to `action: flap`"),
        ("- { at: 1s, link: a, action: flap, period: 2s }", "[0].count: required field `count` is missing"),
        ("- { at: 1s, link: a, action: flap, period: 2s, count: 1, down: 2s }", "[0].down: down for the whole period"),
        ("- { at: 1s, link: a, action: degrade }", "[0]: a degrade changes nothing"),
        ("- { at: 1s, link: a, action: degrade, loss: 100% }", "[0].loss: `100%` is out of range"),
        ("- { at: 1s, link: a, action: degrade, queue: 10ms }", "[0].queue: a queue needs a rate"),
        ("- { at: 1s, link: a, action: rebind, direction: up }", "[0].direction: a rebind has no direction"),
        ("- { at: 1s, link: a, action: cut, direction: left }", "[0].direction: `left` is not a valid value"),
        ("- { at: 1s, lnk: a, action: cut }", "[0].lnk: unknown field `lnk`; expected `link`?"),
        ("name: x", "timeline: required field `timeline` is missing"),
    ])
    func malformedTimelinesNameFileLineAndField(text: String, message: String) {
        #expect(throws: ConfigError.self) { _ = try Timeline.parse(text, file: "t.yaml") }
        do {
            _ = try Timeline.parse(text, file: "t.yaml")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.description.hasPrefix("t.yaml:1:"), "\(error.description)")
        }
    }

    @Test func unknownLinksAndAmbiguousNamesAreRefusedAtTheEvent() throws {
        let topology = try Topology.parse(
            """
            name: t
            hub: { name: hub }
            branches:
              - { name: b1, links: [{ name: lte, kind: lte }, { name: mpls, kind: mpls }] }
              - { name: b2, links: [{ name: lte, kind: lte }] }
            """,
            file: "topo.yaml"
        )
        let cases: [(String, String)] = [
            ("- { at: 1s, link: dsl, action: cut }", "t.yaml:1:3: [0]: no link `dsl`; expected one of: lte, mpls, lte"),
            ("- { at: 1s, link: lte, action: cut }", "link `lte` exists in several branches"),
            ("- { at: 1s, branch: b3, link: lte, action: cut }", "no branch `b3`"),
            ("- { at: 1s, branch: b2, link: mpls, action: cut }", "no link `mpls`; expected one of: lte"),
        ]
        for (text, message) in cases {
            let timeline = try Timeline.parse(text, file: "t.yaml")
            #expect(throws: ConfigError.self) { try timeline.validate(against: topology) }
            do {
                try timeline.validate(against: topology)
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
        let fine = try Timeline.parse("- { at: 1s, branch: b2, link: lte, action: cut }", file: "t.yaml")
        try fine.validate(against: topology)
    }
}
