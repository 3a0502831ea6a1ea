import SDWANCore
import Testing

@Suite struct WholeNumbersTests {
    /// Against the standard library's rounding: halves of both signs, the neighbours of whole
    /// numbers and of halves, values where doubles stop having fractions (2^52, 2^53) and near
    /// Int64's end, and 200 000 random values over twenty orders of magnitude.
    @Test func agreesWithTheStandardLibrary() {
        var values: [Double] = [0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, 1e-300]
        for base in [0.0, 0.5, 1, 1.5, 2, 1e6 + 0.5, 0x1p52, 0x1p52 + 0.5, 0x1p53, 0x1p62] {
            for v in [base, base.nextUp, base.nextDown, -base, -base.nextUp, -base.nextDown] { values.append(v) }
        }
        var random = SeededRandomSource(seed: 11)
        for _ in 0..<200_000 {
            let magnitude = Double(random.next() % 20) - 6
            let sign: Double = random.next() % 2 == 0 ? 1 : -1
            values.append(sign * random.nextUnitDouble() * PowerOfTen.of(magnitude))
        }
        for x in values {
            #expect(WholeNumbers.nearest(x) == Int64(x.rounded()), "nearest(\(x))")
            #expect(WholeNumbers.up(x) == Int64(x.rounded(.up)), "up(\(x))")
        }
    }
}

/// 10^n for small whole n, without Foundation.
private enum PowerOfTen {
    static func of(_ n: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(abs(n)) { result *= 10 }
        return n < 0 ? 1 / result : result
    }
}
