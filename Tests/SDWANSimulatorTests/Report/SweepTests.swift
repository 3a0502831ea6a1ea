import Foundation
import SDWANConfig
import SDWANCore
import SDWANSimulator
import Testing

/// `sdwan simulate --sweep` / `--compare` on simulator/fec-sweep.yaml: measured residual loss
/// against REFERENCE.md within 3 standard errors, and the sweep's charts against its JSON.
@Suite struct SweepTests {
    static func load() throws -> (Scenario, ScenarioSweep) {
        let loaded = try ScenarioSweep.load(path: ScenarioTests.directory + "/fec-sweep.yaml")
        return (loaded.scenario, loaded.sweep)
    }

    @Test func residualLossFollowsTheReferenceCurvesWithinThreeStandardErrors() throws {
        let (scenario, sweep) = try Self.load()
        let result = Sweep.run(scenario, sweep)
        print(SweepReport.table(result), terminator: "")
        #expect(result.kind == "sweep" && result.points.count == sweep.policies.count * sweep.losses.count)
        // none, duplicate, fec-k4 and fec-k4-interleaved have a formula at every rate; adaptive none.
        let withTheory = result.points.filter { $0.theoryResidualLossRatio != nil }
        #expect(withTheory.count == 4 * sweep.losses.count)
        for p in withTheory {
            // q from REFERENCE.md (p; p² for two copies on independent links; p·[1 − (1 − p)^k]
            // for XOR k + 1 at random loss, interleaving changing nothing at random loss), and
            // the band ± 3 standard errors √(q(1 − q)/N), N = the packets sent by both directions.
            let q = try #require(p.theoryResidualLossRatio)
            let band = 3 * (q * (1 - q) / Double(p.sent)).squareRoot()
            #expect(
                abs(p.residualLossRatio - q) <= band,
                "\(p.policy) at \(p.rawLoss ?? 0): residual \(p.residualLossRatio), theory \(q) ± \(band)"
            )
        }
        // The raw loss the links applied is the grid's: the swept links' drops over the N
        // datagrams offered to them (data, copies, parity, probes) within 3 standard errors
        // √(p(1 − p)/N) (independent losses).
        for p in result.points {
            let raw = try #require(p.rawLoss)
            let measured = try #require(p.measuredRawLossRatio)
            let band = 3 * (raw * (1 - raw) / Double(p.sweptLinksOffered)).squareRoot()
            #expect(abs(measured - raw) <= band, "\(p.policy) at \(raw): \(measured) ± \(band)")
        }
        // Charts: residual (measured and theory per policy) and overhead, against the JSON.
        let files = try SweepReport.files(for: result)
        let json = try #require(files.first { $0.name == "sweep.json" })
        let decoded = try JSONDecoder().decode(SweepSummary.self, from: Data(json.contents.utf8))
        var residual: [(String, [Double?])] = []
        var overhead: [(String, [Double?])] = []
        for policy in decoded.policies {
            let points = decoded.points.filter { $0.policy == policy }
            residual.append(("\(policy) measured", points.map(\.residualLossRatio)))
            if points.contains(where: { $0.theoryResidualLossRatio != nil }) {
                residual.append(("\(policy) theory", points.map(\.theoryResidualLossRatio)))
            }
            overhead.append((policy, points.map(\.overheadRatio)))
        }
        let svgs = files.filter { $0.name.hasSuffix(".svg") }
        #expect(svgs.map(\.name) == ["sweep-residual.svg", "sweep-overhead.svg"])
        for file in svgs {
            let svg = try ParsedSVG.parse(file.contents)
            expectChart(svg, file: file.name, matches: file.name == "sweep-residual.svg" ? residual : overhead)
            #expect(svg.plot["data-y-scale"] == (file.name == "sweep-residual.svg" ? "log" : "linear"))
        }
    }

    @Test func policiesSideBySideAtTheScenariosOwnLoss() throws {
        let (scenario, sweep) = try Self.load()
        let result = Sweep.run(scenario, sweep, compare: true)
        print(SweepReport.table(result), terminator: "")
        #expect(result.kind == "compare" && result.points.map(\.policy) == sweep.policies.map(\.name))
        #expect(result.points.allSatisfy { $0.rawLoss == nil && $0.mos != nil && $0.delayP99Ms != nil })
        let none = try #require(result.points.first { $0.policy == "none" }?.overheadRatio)
        let duplicate = try #require(result.points.first { $0.policy == "duplicate" }?.overheadRatio)
        let fec = try #require(result.points.first { $0.policy == "fec-k4" }?.overheadRatio)
        // Two copies put every frame on the wire twice: exactly 2× the unprotected bytes.
        #expect(abs(duplicate / none - 2) < 0.02, "duplicate \(duplicate), none \(none)")
        // k = 4: one parity frame per four members, a parity frame ≥ its longest member
        // (+13 B of FEC fields, docs/fec.md): at least +1/4 of the unprotected bytes.
        #expect(fec / none >= 1.25 && fec / none < 1.25 + 0.1, "fec-k4 \(fec), none \(none)")
        #expect(try SweepReport.files(for: result).filter { $0.name.hasSuffix(".svg") }.isEmpty)
    }
}
