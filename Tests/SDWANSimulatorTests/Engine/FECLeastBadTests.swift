import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator
import Testing

/// FEC when no link meets the class's SLA: 10 % random loss on every link puts the voice class's
/// R-factor below its 70 "stay" threshold on all of them, the class rides its least-bad link, and
/// parity must keep going (docs/fec.md, "Cross-link parity", rule 1).
@Suite struct FECLeastBadTests {
    /// Lost-for-good members of a group of m data members + 1 parity, every packet lost
    /// independently with probability p: with L data members lost, all L are lost for good when
    /// L ≥ 2, the one is when L = 1 and the parity is lost too. Returns (E[X], E[X²]).
    static func lostForGood(m: Int, p: Double) -> (mean: Double, square: Double) {
        var mean = 0.0
        var square = 0.0
        var binomial = 1.0  // C(m, L)
        for l in 0...m {
            if l > 0 { binomial = binomial * Double(m - l + 1) / Double(l) }
            let pl =
                binomial * (0..<l).reduce(1.0) { r, _ in r * p } * (0..<(m - l)).reduce(1.0) { r, _ in r * (1 - p) }
            let fails = l >= 2 ? 1.0 : (l == 1 ? p : 0)
            mean += pl * fails * Double(l)
            square += pl * fails * Double(l * l)
        }
        return (mean, square)
    }

    /// Voice (EF), one packet every 2 ms, FEC k = 4, stride 1, 20 ms budget, over two links with
    /// 10 % Bernoulli loss both ways. Expected residual from the encoder's mix of group sizes:
    /// Σ n_m·E[X_m] / N (for full groups p·[1 − (1 − p)^4] = 3.44 %, REFERENCE.md); groups are
    /// independent, so the variance of the lost count is Σ n_m·Var(X_m), band 3 standard errors.
    /// Without parity in the least-bad case the residual would be the raw 10 %.
    @Test func parityStillProtectsVoiceWhenEveryLinkMissesTheSLA() {
        let p = 0.10
        let loss = LossModel.bernoulli(p: p)
        let links: [(config: EngineLinkConfiguration, up: LinkDirectionParameters, down: LinkDirectionParameters)] = [
            (
                TunnelEngineTests.mpls, NetworkFixture.link(delayMs: 20, loss: loss),
                NetworkFixture.link(delayMs: 20, loss: loss)
            ),
            (
                TunnelEngineTests.broadband, NetworkFixture.link(delayMs: 10, loss: loss),
                NetworkFixture.link(delayMs: 10, loss: loss)
            ),
        ]
        var policies = [ClassFECPolicy?](repeating: nil, count: DefaultClasses.classes.count)
        policies[0] = ClassFECPolicy(groupSize: 4, stride: 1, delayBudget: .milliseconds(20))
        let fixture = NetworkFixture(seed: 71, links: links, fec: policies)
        let network = fixture.network
        network.start()
        network.run(until: .zero + .seconds(5))
        var delivered = Set<UInt32>()
        network.onDelivery = { branch, delivery, _ in
            if branch == nil, let id = NetworkFixture.id(of: delivery.packet) { delivered.insert(id) }
        }
        let n = 20_000
        for i in 0..<n {
            network.simulation.schedule(.action(i), at: .zero + .seconds(5) + .milliseconds(Int64(i) * 2))
        }
        network.run(until: .zero + .seconds(7) + .milliseconds(Int64(n) * 2)) { id, _ in
            network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(id), dscp: DSCP.ef))
        }
        let edge = network.edges[0]
        let choice = edge.choice(forClass: 0)
        let sent = edge.counters(forClass: 0)
        let sizes = edge.fecStatistics(forClass: 0).encoder?.groupsBySize ?? []
        var expectedLost = 0.0
        var variance = 0.0
        for (m, groups) in sizes.enumerated() where m > 0 && groups > 0 {
            let x = Self.lostForGood(m: m, p: p)
            expectedLost += Double(groups) * x.mean
            variance += Double(groups) * (x.square - x.mean * x.mean)
        }
        let expected = expectedLost / Double(n)
        let se = variance.squareRoot() / Double(n)
        let residual = Double(n - delivered.count) / Double(n)
        print(
            "FEC least-bad: residual \(residual * 100) % at 10 % loss, expected \(expected * 100) % ± \(3 * se * 100) % (3 SE), reason \(choice.reason), sentOffSLA \(sent.sentOffSLA), parityUnplaced \(sent.parityUnplaced), groups \(sizes.prefix(6))"
        )
        #expect(choice.reason == .leastBad)
        #expect(sent.sentOffSLA >= UInt64(n) * 9 / 10)
        #expect(abs(residual - expected) <= 3 * se)
    }
}
