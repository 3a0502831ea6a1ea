import Foundation
import SDWANLinkModel
import Testing

/// The module's own log and exp (no libm in the pure module) agree with libm to ~1e-14 relative.
@Suite struct MathFunctionTests {
    @Test func logMatchesLibmAcrossMagnitudes() {
        for x in [
            1e-300, 1.1e-16, 0x1p-53, 1e-6, 0.3, 0.70710678, 0.9999999, 1, 1.0000001, 1.41421356, 2, 10, 1e6, 1e300,
        ] {
            #expect(abs(LinkMath.log(x) - Foundation.log(x)) <= 1e-14 * max(1, abs(Foundation.log(x))), "x = \(x)")
        }
    }

    @Test func expMatchesLibmAcrossMagnitudes() {
        for x in [-700.0, -50, -1, -0.25, 0, 1e-9, 0.34, 0.5, 1, 5, 50, 700] {
            #expect(abs(LinkMath.exp(x) - Foundation.exp(x)) <= 1e-14 * Foundation.exp(x), "x = \(x)")
        }
        #expect(LinkMath.exp(-800) == 0)
        #expect(LinkMath.exp(800) == .infinity)
    }
}
