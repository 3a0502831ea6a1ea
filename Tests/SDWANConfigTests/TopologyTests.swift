import Foundation
import SDWANConfig
import SDWANCore
import SDWANLinkModel
import Testing

/// Topology files: every shipped file loads, presets and overrides layer as documented, and
/// malformed files are refused with file, line and field.
@Suite struct TopologyTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("topologies")

    static func shippedFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }

    @Test func everyShippedTopologyLoads() throws {
        let files = try Self.shippedFiles()
        #expect(files.count >= 3)
        for file in files {
            do {
                let topology = try Topology.load(path: Self.directory.appendingPathComponent(file).path)
                #expect(!topology.branches.isEmpty)
                // Every link's models must be constructible (their preconditions hold).
                for branch in topology.branches {
                    for link in branch.links {
                        _ = LinkDirectionModel(link.up)
                        _ = LinkDirectionModel(link.down)
                    }
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// retail-branch: MPLS + broadband + LTE; preset values, then overrides on top.
    @Test func retailBranchLayersPresetsAndOverrides() throws {
        let t = try Topology.load(path: Self.directory.appendingPathComponent("retail-branch.yaml").path)
        let store = try #require(t.branches.first)
        #expect(store.links.map(\.name) == ["mpls", "broadband", "lte"])
        let mpls = try #require(store.link(named: "mpls"))
        #expect(mpls.kind == .mpls && mpls.preset == "mpls")
        #expect(mpls.up.baseDelay == .milliseconds(20))
        #expect(mpls.up.rate?.bitsPerSecond == 10_000_000)  // overridden from the preset's 20 Mbit/s
        #expect(mpls.up.loss == .gilbert(lossRatio: 0.0005, meanBurst: 1.2))
        // Default queue: 50 ms at the rate = 10e6 × 0.05 / 8 bytes.
        #expect(mpls.up.rate?.queueLimit == .bytes(62_500))
        let lte = try #require(store.link(named: "lte"))
        #expect(lte.kind == .lte && lte.metered && lte.tier == 2 && lte.cost == 50)
        #expect(lte.mtu == 1428 && lte.up.mtu == 1428 && lte.down.mtu == 1428)
        #expect(abs(lte.up.loss.lossRatio - 0.01) < 1e-12)
    }

    /// The Starlink preset's brownout: every 15 s, 50–150 ms, both directions.
    @Test func satelliteTopologyHasTheFifteenSecondBrownout() throws {
        let t = try Topology.load(path: Self.directory.appendingPathComponent("broadband-satellite.yaml").path)
        let link = try #require(t.branches.first?.link(named: "starlink"))
        let expected = ScheduledImpairment.periodic(
            period: .seconds(15),
            offset: .seconds(12),
            minDuration: .milliseconds(50),
            maxDuration: .milliseconds(150),
            effect: .outage
        )
        #expect(link.up.schedules == [expected] && link.down.schedules == [expected])
        #expect(link.kind == .satellite)
    }

    @Test func jitterLossQueueAndScheduleFormsDecode() throws {
        let t = try Topology.parse(
            """
            name: forms
            hub: { name: hub }
            branches:
              - name: b
                links:
                  - name: l
                    kind: other
                    delay: 10ms
                    jitter: { distribution: uniform, width: 4ms, order: reorder }
                    loss: { p: 0.01, r: 0.5, clock: 10ms }
                    rate: 5mbit
                    queue: 30 packets
                    duplicate: 1%
                    reorder: { ratio: 2%, delay: 5ms }
                    schedules:
                      - { at: 30s, duration: 10s, effect: degrade, loss: 20%, delay: 100ms }
                      - { every: 60s, duration: 2s }
                    down: { jitter: 2ms, queue: 64kB }
            """,
            file: "forms.yaml"
        )
        let link = try #require(t.branches.first?.links.first)
        #expect(link.up.jitter == .uniform(halfWidth: .milliseconds(4)) && link.up.ordering == .allowReordering)
        #expect(link.down.jitter == .normal(std: .milliseconds(2)) && link.down.ordering == .allowReordering)
        #expect(link.up.loss == .gilbertElliott(p: 0.01, r: 0.5, clock: .perInterval(.milliseconds(10))))
        #expect(link.up.rate == RateLimit(bitsPerSecond: 5_000_000, queueLimit: .packets(30)))
        #expect(link.down.rate == RateLimit(bitsPerSecond: 5_000_000, queueLimit: .bytes(64_000)))
        #expect(link.up.duplication == 0.01)
        #expect(link.up.reordering == Reordering(probability: 0.02, extraDelay: .milliseconds(5)))
        #expect(
            link.up.schedules == [
                .once(
                    start: .seconds(30),
                    duration: .seconds(10),
                    effect: .degrade(extraLoss: 0.2, extraDelay: .milliseconds(100))
                ),
                .periodic(
                    period: .seconds(60),
                    offset: .zero,
                    minDuration: .seconds(2),
                    maxDuration: .seconds(2),
                    effect: .outage
                ),
            ]
        )
    }

    /// A minimal valid topology with one link; `link` lines are inserted at line 6 onwards.
    static func topology(link: String) -> String {
        """
        name: t
        hub: { name: hub }
        branches:
          - name: b
            links:
        \(link)
        """
    }

    /// Each malformed topology is refused with the file, the line, the field path, and words saying
    /// what is wrong.
    @Test(arguments: [
        ("      - { name: l, kind: lte, lossy: 1% }", 6, "branches[0].links[0].lossy", "unknown field `lossy`"),
        ("      - { name: l, preset: lte-typcal }", 6, "branches[0].links[0].preset", "lte-typical"),
        ("      - { name: l, kind: lte, delay: -5ms }", 6, "branches[0].links[0].delay", "negative"),
        ("      - { name: l, kind: lte, loss: 100% }", 6, "branches[0].links[0].loss", "below 100 %"),
        ("      - { name: l, kind: lte, loss: 1.5 }", 6, "branches[0].links[0].loss", "out of range"),
        (
            "      - { name: l, kind: lte, loss: { ratio: 2%, burst: 0.5 } }", 6, "branches[0].links[0].loss.burst",
            "burst"
        ),
        ("      - { name: l, kind: wifi }", 6, "branches[0].links[0].kind", "mpls, broadband"),
        ("      - { name: l }", 6, "branches[0].links[0]", "needs a `kind` or a `preset`"),
        (
            "      - { name: l, kind: lte }\n      - { name: l, kind: mpls }", 7, "branches[0].links[1]",
            "duplicate link name `l`"
        ),
        ("      - { name: l, kind: lte, rate: 20 }", 6, "branches[0].links[0].rate", "bit rate"),
        ("      - { name: l, kind: lte, queue: 10 packets }", 6, "branches[0].links[0].queue", "queue needs a rate"),
        ("      - { name: l, kind: lte, mtu: 70000 }", 6, "branches[0].links[0].mtu", "65535"),
        (
            "      - { name: l, kind: lte, jitter: { distribution: normal, mean: 3ms } }", 6,
            "branches[0].links[0].jitter.mean", "`std`"
        ),
        (
            "      - { name: l, kind: lte, schedules: [ { every: 1s, duration: 2s } ] }", 6,
            "branches[0].links[0].schedules[0].duration", "longer than its period"
        ),
        (
            "      - name: l\n        kind: lte\n        up:\n          delya: 5ms", 9, "branches[0].links[0].up.delya",
            "`delay`?"
        ),
    ])
    func malformedTopologyNamesFileLineAndField(link: String, line: Int, field: String, words: String) {
        do {
            _ = try Topology.parse(Self.topology(link: link), file: "bad.yaml")
            Issue.record("accepted: \(link)")
        } catch {
            #expect(error.file == "bad.yaml")
            #expect(error.line == line, "\(error)")
            #expect(error.field == field, "\(error)")
            #expect(error.description.contains(words), "\(error)")
            #expect(error.description.hasPrefix("bad.yaml:\(line):"))
        }
    }

    @Test func structuralErrorsAreReported() {
        let cases: [(String, String)] = [
            ("name: t\nhub: { name: hub }\nbranches: []\n", "no branches"),
            ("name: t\nbranches:\n  - { name: b, links: [ { name: l, kind: lte } ] }\n", "required field `hub`"),
            (
                "name: t\nhub: { name: b }\nbranches:\n  - { name: b, links: [ { name: l, kind: lte } ] }\n",
                "used twice"
            ),
            ("name: t\nhub: { name: hub }\nbranches:\n  - { name: b, links: [] }\n", "no links"),
        ]
        for (text, words) in cases {
            do {
                _ = try Topology.parse(text, file: "s.yaml")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.contains(words), "\(error)")
                #expect(error.line != nil)
            }
        }
    }

    /// Every preset builds valid models, and its long-run loss is the REFERENCE.md table's.
    @Test(arguments: [
        ("mpls", 0.0005), ("broadband-busy-hour", 0.005), ("lte-typical", 0.01), ("lte-poor-cell", 0.03),
        ("starlink", 0.005),
    ])
    func presetsMatchTheReferenceLossTable(name: String, loss: Double) throws {
        let preset = try #require(LinkPreset.named(name))
        #expect(abs(preset.upParameters.loss.lossRatio - loss) < 1e-12)
        #expect(abs(preset.downParameters.loss.lossRatio - loss) < 1e-12)
        _ = LinkDirectionModel(preset.upParameters)
    }
}
