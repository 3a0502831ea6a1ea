import SDWANConfig
import SDWANCore
import Testing

/// Scenario files: the schema decodes, and a malformed file names file, line and field.
@Suite struct ScenarioFileTests {
    static let topology = Topology(
        name: "t",
        hub: TopologyHub(name: "hub"),
        branches: [
            TopologyBranch(
                name: "b",
                links: [
                    TopologyLink(
                        name: "mpls",
                        kind: .mpls,
                        up: .init(baseDelay: .milliseconds(20)),
                        down: .init(baseDelay: .milliseconds(20))
                    )
                ]
            )
        ]
    )

    static func parse(_ text: String) throws(ConfigError) -> Scenario {
        try Scenario.decode(ConfigDocument.parse(text, file: "s.yaml")) { _, _ in topology }
    }

    static let valid = """
        name: s
        topology: t.yaml
        seed: 3
        duration: 10s
        traffic:
          - { kind: voice, calls: 2 }
          - { kind: bulk, flows: 1, rate: 5mbit, direction: up }
        classes:
          - name: voice
            match: { dscp: [ef], protocol: [udp], ports: [5004, 10000-20000], destination: [10.200.0.0/16] }
            sla: { rtt: 300ms, rEnter: 80, rStay: 70 }
            mode: duplicate
            copies: 2
            links: [mpls]
            fec: { k: 4, stride: 10, budget: 20ms }
          - name: rest
        monitor: { interval: 50ms, missed: 4 }
        timeline:
          - { at: 2s, link: mpls, action: cut }
          - { at: 5s, action: restart-hub }
        expectations:
          - { name: r, class: voice, metric: residualLossRatio, max: { fecResidual: { loss: 2%, k: 4 } }, why: formula }
        """

    @Test func aValidScenarioDecodesEveryBlock() throws {
        let s = try Self.parse(Self.valid)
        #expect(s.seed == 3 && s.duration == .seconds(10) && s.traffic.count == 2)
        #expect(s.classes.classes.map(\.name) == ["voice", "rest"] && s.classes.defaultClassIndex == 1)
        #expect(s.classes.classes[0].mode == .duplicate(copies: 2) && s.classes.classes[0].allowedLinks == ["mpls"])
        #expect(s.classes.fec[0]?.groupSize == 4 && s.classes.fec[0]?.stride == 10 && s.classes.fec[1] == nil)
        #expect(s.classes.rules.count == 1 && s.classes.rules[0].ports == [5004...5004, 10_000...20_000])
        #expect(s.monitor.probes.interval == .milliseconds(50) && s.monitor.missedIntervals == 4)
        #expect(s.timeline.events.count == 1 && s.hubRestarts == [.seconds(5)])
        // p·[1 − (1 − p)^k] at p = 2 %, k = 4 = 0.02 × (1 − 0.98⁴) = 0.0015532…; with N huge the SE vanishes.
        let bound = s.expectations[0].max!.value(samples: 1 << 60)
        #expect(abs(bound - 0.02 * (1 - 0.98 * 0.98 * 0.98 * 0.98)) < 1e-9)
    }

    @Test(arguments: [
        ("    mode: duplicate\n    copies: 2\n", "    mode: duplicat\n", 12, "classes[0].mode", "`duplicate`?"),
        ("    links: [mpls]", "    links: [lte]", 14, "classes[0].links[0]", "no link `lte`"),
        ("    fec: { k: 4, stride: 10, budget: 20ms }", "    fec: { k: 99 }", 15, "classes[0].fec.k", "out of range"),
    ])
    func aMalformedClassNamesFileLineAndField(_ old: String, _ new: String, line: Int, field: String, fragment: String)
    {
        let text = Self.valid.replacingOccurrences(of: old, with: new)
        #expect(text != Self.valid)
        do {
            _ = try Self.parse(text)
            Issue.record("accepted a malformed class")
        } catch {
            #expect(error.file == "s.yaml")
            #expect(error.line == line)
            #expect(error.field == field)
            #expect(error.description.contains(fragment), "\(error.description)")
        }
    }

    @Test func anUnknownTrafficFieldIsRefusedWithItsLine() {
        let text = Self.valid.replacingOccurrences(of: "{ kind: voice, calls: 2 }", with: "{ kind: voice, cals: 2 }")
        do {
            _ = try Self.parse(text)
            Issue.record("accepted `cals`")
        } catch {
            #expect(error.line == 6 && error.field == "traffic[0].cals")
            #expect(error.description.contains("`calls`?"), "\(error.description)")
        }
    }
}
