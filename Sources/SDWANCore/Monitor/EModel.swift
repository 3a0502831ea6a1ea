/// Voice quality from delay and loss: the simplified ITU-T G.107 E-model (REFERENCE.md, "Voice
/// quality"), with G.113 codec impairments.
public enum EModel {
    /// A codec's equipment impairment Ie and packet-loss robustness Bpl (ITU-T G.113 Appendix I).
    public struct Codec: Hashable, Sendable {
        public var impairment: Double
        public var lossRobustness: Double

        public init(impairment: Double, lossRobustness: Double) {
            self.impairment = impairment
            self.lossRobustness = lossRobustness
        }

        /// G.711 with packet-loss concealment: Ie = 0, Bpl = 25.1 (the default).
        public static let g711PLC = Codec(impairment: 0, lossRobustness: 25.1)
        /// G.729A: Ie = 11, Bpl = 19.
        public static let g729A = Codec(impairment: 11, lossRobustness: 19)
    }

    /// G.107 §7.4 delay impairment: Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3), d in ms.
    public static func delayImpairment(oneWayDelayMilliseconds d: Double) -> Double {
        0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0)
    }

    /// G.107 §7.5 effective equipment impairment: Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl),
    /// Ppl the loss in percent. BurstR = 1 for random loss.
    public static func effectiveEquipmentImpairment(lossPercent ppl: Double, burstRatio: Double, codec: Codec) -> Double
    {
        let burst = max(burstRatio, 1)
        return codec.impairment + (95 - codec.impairment) * ppl / (ppl / burst + codec.lossRobustness)
    }

    /// R = 93.2 − Id − Ie,eff (the default values of every other G.107 input fold into 93.2).
    public static func rFactor(
        oneWayDelay: TimeSpan,
        lossRatio: Double,
        burstRatio: Double = 1,
        codec: Codec = .g711PLC
    ) -> Double {
        let id = delayImpairment(oneWayDelayMilliseconds: oneWayDelay.milliseconds)
        let ie = effectiveEquipmentImpairment(lossPercent: lossRatio * 100, burstRatio: burstRatio, codec: codec)
        return 93.2 - id - ie
    }

    /// G.107 Annex B: MOS = 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R), 1 below R = 0, 4.5 above 100.
    public static func mos(rFactor r: Double) -> Double {
        if r <= 0 { return 1 }
        if r >= 100 { return 4.5 }
        return min(4.5, max(1, 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)))
    }

    /// G.113 burst ratio from a measured mean burst length and loss ratio: BurstR = mean burst ×
    /// (1 − loss), which is 1/(p + r) for a Gilbert chain and 1 for random loss.
    public static func burstRatio(meanBurstLength: Double?, lossRatio: Double) -> Double {
        guard let burst = meanBurstLength else { return 1 }
        return max(1, burst * (1 - lossRatio))
    }
}
