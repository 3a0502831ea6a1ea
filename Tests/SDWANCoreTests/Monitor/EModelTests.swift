import SDWANCore
import Testing

/// The simplified G.107 E-model reproduces REFERENCE.md's check values (G.711 + PLC).
@Suite struct EModelTests {
    struct Check: Sendable {
        var delay: Int64
        var loss: Double
        var r: Double
    }

    /// 50 ms, 0 % → 92.0; 150 ms, 1 % → 86.0; 300 ms, 2 % → 65.5 (REFERENCE.md rounds to 0.1).
    @Test(arguments: [
        Check(delay: 50, loss: 0, r: 92.0), Check(delay: 150, loss: 0.01, r: 86.0),
        Check(delay: 300, loss: 0.02, r: 65.5),
    ])
    func rFactorMatchesReferenceTable(_ c: Check) {
        let r = EModel.rFactor(oneWayDelay: .milliseconds(c.delay), lossRatio: c.loss)
        #expect(abs(r - c.r) < 0.05, "R = \(r)")
    }

    @Test func mosAtRFactor86IsFourPointTwoThree() {
        let r = EModel.rFactor(oneWayDelay: .milliseconds(150), lossRatio: 0.01)
        #expect(abs(EModel.mos(rFactor: r) - 4.23) < 0.005)
        #expect(EModel.mos(rFactor: -5) == 1)
        #expect(EModel.mos(rFactor: 120) == 4.5)
    }

    /// G.729A: Ie = 11, Bpl = 19. At 0 ms and 0 % R = 93.2 − 11 = 82.2; at 1 %:
    /// Ie,eff = 11 + 84·1/(1 + 19) = 15.2, R = 78.0.
    @Test func g729AUsesItsImpairmentAndRobustness() {
        #expect(abs(EModel.rFactor(oneWayDelay: .zero, lossRatio: 0, codec: .g729A) - 82.2) < 1e-9)
        #expect(abs(EModel.rFactor(oneWayDelay: .zero, lossRatio: 0.01, codec: .g729A) - 78.0) < 1e-9)
    }

    /// Bursty loss hurts more: BurstR = mean burst × (1 − loss); at 2 %, mean burst 3, BurstR = 2.94
    /// and Ie,eff = 95·2/(2/2.94 + 25.1) = 7.37 against 7.01 for random loss.
    @Test func burstyLossLowersR() {
        let burst = EModel.burstRatio(meanBurstLength: 3, lossRatio: 0.02)
        #expect(abs(burst - 2.94) < 1e-9)
        let random = EModel.rFactor(oneWayDelay: .zero, lossRatio: 0.02)
        let bursty = EModel.rFactor(oneWayDelay: .zero, lossRatio: 0.02, burstRatio: burst)
        #expect(abs((random - bursty) - (95 * 2 / (2 / 2.94 + 25.1) - 95 * 2 / (2 + 25.1))) < 1e-9)
        #expect(bursty < random)
    }
}
