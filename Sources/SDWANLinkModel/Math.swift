import SDWANCore

/// The few transcendental functions the link models need, without Foundation or libm, so the
/// module stays as pure as the core and gives the same bits on every platform.
///
/// Accuracy: within a few ulps over the ranges the models use (checked against libm in
/// `MathFunctionTests`).
public enum LinkMath {
    static let ln2 = 0.693_147_180_559_945_309_417_232_121_458
    static let sqrt2 = 1.414_213_562_373_095_048_801_688_724_209_7

    /// ln x for finite x > 0. x = m·2^e with m in [√½, √2); ln m = 2·atanh(z), z = (m − 1)/(m + 1),
    /// |z| ≤ 0.172, so 14 terms of the odd series reach double precision.
    public static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "log of a non-positive or non-finite number")
        var e: Double
        var m: Double
        let biased = Int(truncatingIfNeeded: x.bitPattern >> 52)
        if biased > 0 {
            // A normal number: exponent and significand read from the bits (the same values as
            // `exponent` and `significand`, whose general code cost more than the series).
            e = Double(biased - 1023)
            m = Double(bitPattern: x.bitPattern & 0x000F_FFFF_FFFF_FFFF | 0x3FF0_0000_0000_0000)
        } else {
            e = Double(Int(x.exponent))
            m = x.significand
        }
        if m > sqrt2 {
            m /= 2
            e += 1
        }
        let z = (m - 1) / (m + 1)
        // ln m = 2·z·P(w), w = z², P(w) = Σ w^k/(2k + 1), k = 0…13, in Estrin's scheme: pairs of
        // coefficients first, then pairs of pairs with w², w⁴, w⁸. The same series as summing
        // term by term, but its operations form a tree six deep instead of a chain of 28
        // multiplications and additions, each waiting for the last (`log` runs for every jitter
        // draw, and the chain's latency was its cost).
        let w = z * z
        let w2 = w * w
        let w4 = w2 * w2
        let w8 = w4 * w4
        let p0 = (1 + w * (1 / 3)) + w2 * ((1 / 5) + w * (1 / 7))
        let p1 = ((1 / 9) + w * (1 / 11)) + w2 * ((1 / 13) + w * (1 / 15))
        let p2 = ((1 / 17) + w * (1 / 19)) + w2 * ((1 / 21) + w * (1 / 23))
        let p3 = (1 / 25) + w * (1 / 27)
        let sum = z * ((p0 + w4 * p1) + w8 * (p2 + w4 * p3))
        return 2 * sum + e * ln2
    }

    /// e^x. x = k·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series (20 terms: r^20/20! < 1e-21),
    /// then scaled by 2^k exactly.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.78 { return .infinity }
        if x < -745.2 { return 0 }
        let k = (x / ln2).rounded()
        // Cody–Waite: ln2 split in a high part with trailing zero bits (k·ln2Hi is exact) and the
        // rest, so r keeps full precision even for |k| near 1000 (fdlibm's constants).
        let r = (x - k * 6.931_471_803_691_238_164_90e-01) - k * 1.908_214_929_270_587_700_02e-10
        var term = 1.0
        var sum = 1.0
        for n in 1...20 {
            term *= r / Double(n)
            sum += term
        }
        let exponent = Int(k)
        // Split the scaling so that 2^k stays representable for subnormal results.
        if exponent < -1000 {
            return Double(sign: .plus, exponent: exponent + 1000, significand: sum) * 0x1p-1000
        }
        return Double(sign: .plus, exponent: exponent, significand: sum)
    }

    /// x^y = e^(y·ln x) for x > 0.
    public static func pow(_ x: Double, _ y: Double) -> Double {
        exp(y * log(x))
    }
}

extension RandomSource {
    /// A uniform double in (0, 1]: never zero, so its logarithm is finite.
    mutating func nextOpenUnitDouble() -> Double {
        1 - nextUnitDouble()
    }

    /// An exponential draw with mean 1: −ln U, U in (0, 1].
    mutating func nextStandardExponential() -> Double {
        -LinkMath.log(nextOpenUnitDouble())
    }
}

/// Standard normal deviates by the Marsaglia polar form of the Box–Muller transform (Marsaglia &
/// Bray 1964): (u, v) uniform in the unit disc, s = u² + v², then u·√(−2 ln s / s) and
/// v·√(−2 ln s / s) are two independent standard normals. No trigonometry; π/4 of the points
/// drawn are accepted. Both deviates of a pair are used, the second kept for the next draw: half
/// the logarithms, square roots and uniform draws of using one per pair.
public struct NormalDeviates: Hashable, Sendable {
    private var spare: Double?

    public init() {}

    /// The next standard normal deviate.
    public mutating func next(using random: inout some RandomSource) -> Double {
        if let spare {
            self.spare = nil
            return spare
        }
        while true {
            let u = 2 * random.nextUnitDouble() - 1
            let v = 2 * random.nextUnitDouble() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let factor = (-2 * LinkMath.log(s) / s).squareRoot()
                spare = v * factor
                return u * factor
            }
        }
    }
}
