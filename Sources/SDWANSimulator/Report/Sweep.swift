import Foundation
import SDWANConfig
import SDWANCore
import SDWANLinkModel

/// The result of a sweep (`sdwan simulate --sweep` / `--compare`, docs/simulator.md "Sweeps").
public struct SweepSummary: Codable, Sendable {
    public var scenario: String
    public var className: String
    public var seed: UInt64
    /// `sweep` (raw loss × policy) or `compare` (policies at the scenario's own conditions).
    public var kind: String
    /// The grid's raw loss rates (empty for `compare`) and their mean burst (`null`: Bernoulli).
    public var losses: [Double]
    public var meanBurst: Double?
    public var links: [String]
    public var policies: [String]
    /// One per policy and loss rate, policy-major in file order.
    public var points: [SweepPoint]
}

/// One grid point: the class's figures pooled over its `classes[]` entries (every branch, both
/// directions).
public struct SweepPoint: Codable, Sendable {
    public var policy: String
    /// The loss set on the swept links (`null` for `compare`).
    public var rawLoss: Double?
    /// The swept links' model drops ÷ datagrams offered (truth, probes and parity included).
    public var measuredRawLossRatio: Double?
    /// Datagrams offered to the swept links (both directions), the N behind it.
    public var sweptLinksOffered: UInt64
    public var sent: UInt64
    public var delivered: UInt64
    public var residualLossRatio: Double
    /// REFERENCE.md: p for no protection, p^c for c copies on independent links,
    /// p·[1 − (1 − p)^k] for XOR FEC k + 1 on random loss; `null` where no formula applies
    /// (bursty loss with FEC, adaptive FEC, balance).
    public var theoryResidualLossRatio: Double?
    /// √(q(1 − q)/N) of the theory value q over N = `sent` (× the Gilbert variance factor for
    /// bursty loss).
    public var standardError: Double?
    public var recoveredByFEC: UInt64
    /// Wire bytes ÷ payload bytes, pooled over the entries (weighted by packets sent).
    public var overheadRatio: Double?
    /// The largest p99 one-way delay of the entries, ms.
    public var delayP99Ms: Double?
    /// Voice: the lowest R and MOS of the entries.
    public var rFactor: Double?
    public var mos: Double?
}

/// Runs a scenario's `sweep:` grid through the simulator, one run per point, every run with the
/// same seed (common random numbers: the curves differ by the policy, not by the draws).
public enum Sweep {
    public static func run(
        _ scenario: Scenario,
        _ sweep: ScenarioSweep,
        compare: Bool = false,
        seed: UInt64? = nil,
        nullCipher: Bool = true
    ) -> SweepSummary {
        let losses: [Double?] = compare || sweep.losses.isEmpty ? [nil] : sweep.losses.map { $0 }
        var points: [SweepPoint] = []
        for policy in sweep.policies {
            for loss in losses {
                let variant = scenario.applying(policy, of: sweep, loss: loss)
                let summary = Simulator.run(variant, seed: seed, nullCipher: nullCipher)
                points.append(point(summary, policy: policy, loss: loss, scenario: variant, sweep: sweep))
            }
        }
        return SweepSummary(
            scenario: scenario.name,
            className: sweep.className,
            seed: seed ?? scenario.seed,
            kind: losses == [nil] ? "compare" : "sweep",
            losses: losses.compactMap { $0 },
            meanBurst: sweep.meanBurst,
            links: sweep.links,
            policies: sweep.policies.map(\.name),
            points: points
        )
    }

    static func point(
        _ summary: SimulationSummary,
        policy: SweepPolicy,
        loss: Double?,
        scenario: Scenario,
        sweep: ScenarioSweep
    ) -> SweepPoint {
        let entries = summary.classes.filter { $0.name == sweep.className }
        let sent = entries.reduce(UInt64(0)) { $0 + $1.sent }
        let delivered = entries.reduce(UInt64(0)) { $0 + $1.delivered }
        let weighted = entries.compactMap { e in e.overheadRatio.map { ($0 * Double(e.sent), Double(e.sent)) } }
        let weight = weighted.reduce(0) { $0 + $1.1 }
        let swept = summary.links.filter { sweep.links.contains($0.name) }
        let offered = swept.reduce(UInt64(0)) { $0 + $1.up.offered + $1.down.offered }
        let dropped = swept.reduce(UInt64(0)) { $0 + $1.up.dropped + $1.down.dropped }
        let q = loss.flatMap { theory(scenario: scenario, sweep: sweep, loss: $0) }
        let factor = loss.map { sweep.lossModel($0).varianceInflation } ?? 1
        return SweepPoint(
            policy: policy.name,
            rawLoss: loss,
            measuredRawLossRatio: offered == 0 ? nil : Double(dropped) / Double(offered),
            sweptLinksOffered: offered,
            sent: sent,
            delivered: delivered,
            residualLossRatio: sent == 0 ? 0 : 1 - Double(delivered) / Double(sent),
            theoryResidualLossRatio: q,
            standardError: q.map { (factor * $0 * (1 - $0) / Double(max(sent, 1))).squareRoot() },
            recoveredByFEC: entries.reduce(UInt64(0)) { $0 + $1.recoveredByFEC },
            overheadRatio: weight > 0 ? weighted.reduce(0) { $0 + $1.0 } / weight : nil,
            delayP99Ms: entries.compactMap(\.oneWayDelayMs.p99).max(),
            rFactor: entries.compactMap(\.rFactor).min(),
            mos: entries.compactMap(\.mos).min()
        )
    }

    /// The REFERENCE.md residual loss of the class in `scenario` (the policy applied) at raw loss
    /// `p` on the swept links, or `nil` where no formula applies. The class's allowed links must
    /// all be swept links (else it may use an unswept one).
    public static func theory(scenario: Scenario, sweep: ScenarioSweep, loss p: Double) -> Double? {
        guard let c = scenario.classes.index(of: sweep.className) else { return nil }
        let cls = scenario.classes.classes[c]
        let allLinks = scenario.topology.branches.flatMap { $0.links.map(\.name) }
        let allowed = cls.allowedLinks.isEmpty ? allLinks : cls.allowedLinks
        guard !allowed.isEmpty, allowed.allSatisfy(sweep.links.contains) else { return nil }
        let bursty = (sweep.meanBurst ?? 1) > 1
        switch (cls.mode, scenario.classes.fec[c]) {
        case (.best, nil):
            return p
        case (.duplicate(let copies), nil):
            // Copies on independent links each lose with p (bursts or not: the chains are independent).
            guard Set(allowed).count >= copies else { return nil }
            return pow(p, Double(copies))
        case (.best, let fec?) where fec.adaptive == nil && !bursty:
            // RFC 5109 XOR, k data + 1 parity, independent loss: lost and not rebuilt when another
            // member of the group is lost too.
            return p * (1 - pow(1 - p, Double(fec.groupSize)))
        default:
            return nil
        }
    }

    /// The sweep as JSON: sorted keys, pretty-printed, newline-terminated.
    public static func json(_ summary: SweepSummary) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(summary)
        data.append(0x0A)
        return data
    }
}
