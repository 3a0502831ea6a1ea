import SDWANConfig
import SDWANCore
import SDWANLinkModel
import Testing

/// The `sweep:` block: ignored by an ordinary load (even when malformed), decoded by
/// `ScenarioSweep.decode`, applied by `Scenario.applying(_:of:loss:)`.
@Suite struct ScenarioSweepTests {
    static let base = """
        name: s
        topology: t.yaml
        seed: 3
        duration: 10s
        traffic:
          - { kind: voice, calls: 2 }
        classes:
          - name: voice
            match: { dscp: [ef] }
            links: [mpls]
            fec: { k: 4, stride: 1, budget: 30ms }
          - name: rest
        timeline:
          - { at: 0s, link: mpls, action: degrade, loss: 2% }
          - { at: 5s, link: mpls, action: degrade, delay: 80ms }

        """

    static func parse(_ text: String) throws(ConfigError) -> (Scenario, ConfigValue) {
        let root = try ConfigDocument.parse(text, file: "s.yaml")
        return (try Scenario.decode(root) { _, _ in ScenarioFileTests.topology }, root)
    }

    static func sweep(_ block: String) throws(ConfigError) -> ScenarioSweep {
        let (scenario, root) = try parse(base + block)
        let m = try root.mapping(allowing: [
            "name", "topology", "seed", "duration", "traffic", "classes", "timeline", "sweep",
        ])
        return try ScenarioSweep.decode(m["sweep"]!, scenario: scenario)
    }

    @Test func anOrdinaryLoadIgnoresEvenAMalformedSweepBlock() throws {
        let (scenario, _) = try Self.parse(Self.base + "sweep: { class: nosuch, colour: red }\n")
        #expect(scenario.name == "s")
    }

    @Test func aSweepBlockDecodesGridAndPolicies() throws {
        let s = try Self.sweep(
            """
            sweep:
              class: voice
              links: [mpls]
              loss: [1%, 0.05]
              burst: 3
              duration: 4s
              policies:
                - { name: none, fec: off }
                - { name: dup, mode: duplicate, copies: 3, links: [mpls] }
                - { name: fec, fec: { k: 2, stride: 5, budget: 40ms } }

            """
        )
        #expect(s.className == "voice" && s.links == ["mpls"] && s.losses == [0.01, 0.05])
        #expect(s.meanBurst == 3 && s.duration == .seconds(4))
        #expect(s.policies.map(\.name) == ["none", "dup", "fec"])
        #expect(s.policies[0].fec == .some(nil) && s.policies[0].mode == nil)
        #expect(s.policies[1].mode == .duplicate(copies: 3) && s.policies[1].links == ["mpls"])
        #expect(s.policies[2].fec??.groupSize == 2 && s.policies[2].fec??.stride == 5)
        // Gilbert fitted from rate and burst: r = 1/3, p = L·r/(1 − L) (REFERENCE.md).
        #expect(s.lossModel(0.01) == .gilbert(lossRatio: 0.01, meanBurst: 3))
    }

    @Test(arguments: [
        ("sweep: { class: video, policies: [{ name: a }] }", "no class `video`"),
        ("sweep: { class: voice, links: [dsl], policies: [{ name: a }] }", "no link `dsl`"),
        ("sweep: { class: voice, loss: [2%], policies: [{ name: a }] }", "needs the links"),
        ("sweep: { class: voice, policies: [{ name: a }, { name: a }] }", "listed twice"),
        ("sweep: { class: voice, policies: [{ name: a, copies: 2 }] }", "applies only to"),
        ("sweep: { class: voice, links: [mpls], loss: [60%], policies: [{ name: a }] }", "out of range"),
    ])
    func aMalformedSweepNamesFileLineAndProblem(_ block: String, _ problem: String) {
        do {
            _ = try Self.sweep(block + "\n")
            Issue.record("`\(block)` decoded")
        } catch {
            #expect(error.description.contains(problem), "\(error.description)")
            #expect(error.file == "s.yaml" && error.line != nil, "\(error.description)")
        }
    }

    @Test func applyingAPolicyReplacesTheClassAndTheSweptLinksLoss() throws {
        let (scenario, _) = try Self.parse(Self.base)
        let sweep = try Self.sweep(
            """
            sweep:
              class: voice
              links: [mpls]
              loss: [5%]
              duration: 4s
              policies: [{ name: dup, mode: duplicate, fec: off }]

            """
        )
        let s = scenario.applying(sweep.policies[0], of: sweep, loss: 0.05)
        #expect(s.classes.classes[0].mode == .duplicate(copies: 2) && s.classes.fec[0] == nil)
        #expect(s.topology.branches[0].links[0].up.loss == .bernoulli(p: 0.05))
        #expect(s.topology.branches[0].links[0].down.loss == .bernoulli(p: 0.05))
        // The timeline's loss degrade of the swept link goes; its delay degrade stays.
        #expect(s.timeline.events.count == 1 && s.timeline.events[0].at == .seconds(5))
        #expect(s.duration == .seconds(4) && s.drain == .seconds(2))
        // Without a loss (--compare) the topology and timeline are the scenario's.
        let c = scenario.applying(sweep.policies[0], of: sweep, loss: nil)
        #expect(c.timeline.events.count == 2 && c.topology == scenario.topology)
    }
}
