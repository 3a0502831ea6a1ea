import Foundation

/// The demo's expectations. Every bound comes from a formula of ../shared/REFERENCE.md or
/// docs/path-selection.md with the plan's inputs, never from a previous run (docs/demo.md).
enum DemoExpectations {
    /// Residual loss of single-parity XOR FEC at random loss p with k data packets per parity
    /// (REFERENCE.md, "XOR FEC"; RFC 5109): p·[1 − (1 − p)^k].
    static func fecResidual(p: Double, k: Int) -> Double { p * (1 - pow(1 - p, Double(k))) }

    /// Gilbert–Elliott variance inflation (1 + ρ)/(1 − ρ), ρ = 1 − p − r, r = 1/burst,
    /// p = L·r/(1 − L) (REFERENCE.md, "Burst loss model").
    static func gilbertVarianceFactor(loss: Double, burst: Double) -> Double {
        let r = 1 / burst
        let p = loss * r / (1 - loss)
        let rho = 1 - p - r
        return (1 + rho) / (1 - rho)
    }

    /// The protected voice's residual loss bound over the whole run: the failover window's share
    /// of the sending time (everything sent in it may be lost), plus q = p·[1 − (1 − p)^k] at the
    /// loss of the worst link voice may use (LTE, 1 %, burst 3), plus 3 standard errors
    /// √(v·q(1 − q)/N) with the Gilbert factor v of that loss and burst.
    static func voiceResidualBound(packets: Int, failoverBoundMs: Double, sendingSeconds: Double) -> Double {
        let q = fecResidual(p: DemoPlan.lteLoss, k: DemoPlan.fecK)
        let v = gilbertVarianceFactor(loss: DemoPlan.lteLoss, burst: DemoPlan.lteBurst)
        let window = failoverBoundMs / 1_000 / sendingSeconds
        return window + q + 3 * (v * q * (1 - q) / Double(max(1, packets))).squareRoot()
    }

    /// Failed POS transactions allowed: λ + 3√λ rounded up (a Poisson count), λ = the expected
    /// failures. Duplicated on two links, a packet is lost when both copies are: at most
    /// 5 % × 1 % (degraded broadband and LTE, the worst pair) per packet, two packets per
    /// transaction; inside the failover window only one copy can arrive, so each packet there is
    /// lost with the other link's loss (≤ 5 %).
    static func posFailuresAllowed(transactions: Int, failoverBoundMs: Double) -> Int {
        let pair = DemoPlan.degradeLoss * 0.01
        let inWindow = failoverBoundMs / 1_000 / DemoPlan.posInterval
        let lambda = Double(transactions) * 2 * pair + inWindow * 2 * DemoPlan.degradeLoss
        return Int((lambda + 3 * lambda.squareRoot()).rounded(.up))
    }

    static func check(
        voice: DemoSummary.ClassResult,
        pos: (transactions: Int, completed: Int),
        detectedAfterMs: Double?,
        srttMs: Double?,
        duration: Double
    ) -> [DemoSummary.Expectation] {
        var list: [DemoSummary.Expectation] = []
        let detection = DemoPlan.detectionMs(srttMs: srttMs)
        let failoverBound = DemoPlan.failoverBoundMs(srttMs: srttMs)
        let srtt = srttMs ?? DemoPlan.mplsRTTMs
        let detectionBound = detection + 100 + 100
        list.append(
            .init(
                name: "MPLS blackout detected within the monitor's window",
                value: detectedAfterMs,
                max: detectionBound,
                passed: detectedAfterMs.map { $0 <= detectionBound } ?? false,
                why: String(
                    format:
                        "max(M × I, base + N × SRTT) = max(3 × 100, 100 + 4 × %.0f) = %.0f ms (SRTT of MPLS before "
                        + "the cut), + 100 ms evaluation tick + 100 ms /status poll interval",
                    srtt,
                    detection
                )
            )
        )
        let gap = voice.blackoutGapMs
        list.append(
            .init(
                name: "voice gap at the blackout within the failover window",
                value: gap,
                max: failoverBound,
                passed: gap.map { $0 <= failoverBound } ?? false,
                why: String(
                    format:
                        "detection %.0f ms + selection tick 100 ms + 200 ms for the new link's flight (LTE 27 ms + "
                        + "jitter), one 20 ms packet interval and scheduling slack on a loaded machine",
                    detection
                )
            )
        )
        let sending = duration - DemoPlan.drain
        let residualBound = voiceResidualBound(
            packets: voice.sent,
            failoverBoundMs: failoverBound,
            sendingSeconds: sending
        )
        list.append(
            .init(
                name: "protected voice residual loss",
                value: voice.residualLossRatio,
                max: residualBound,
                passed: voice.sent > 0 && voice.residualLossRatio <= residualBound,
                why: String(
                    format:
                        "failover window %.0f ms ÷ %.1f s of sending (%.2f %%) + p·[1 − (1 − p)^k] at p = 1 %% "
                        + "(LTE), k = %d (%.3f %%) + 3 SE √(v·q(1 − q)/N), v = %.1f (Gilbert, burst 3), N = %d",
                    failoverBound,
                    sending,
                    failoverBound / 10 / sending,
                    DemoPlan.fecK,
                    fecResidual(p: DemoPlan.lteLoss, k: DemoPlan.fecK) * 100,
                    gilbertVarianceFactor(loss: DemoPlan.lteLoss, burst: DemoPlan.lteBurst),
                    voice.sent
                )
            )
        )
        let allowed = posFailuresAllowed(transactions: pos.transactions, failoverBoundMs: failoverBound)
        let failed = pos.transactions - pos.completed
        list.append(
            .init(
                name: "POS transactions complete (duplicated on two links)",
                value: Double(failed),
                max: Double(allowed),
                passed: pos.transactions > 0 && failed <= allowed,
                why: "failures ≤ λ + 3√λ, λ = N·2·(5 % × 1 %) + (window ÷ 500 ms)·2·5 % (one copy only)"
            )
        )
        return list
    }
}
