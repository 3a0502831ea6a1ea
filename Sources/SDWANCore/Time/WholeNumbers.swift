/// Rounding a `Double` to an `Int64` without a libm call. The x86-64 baseline has no rounding
/// instruction, so `rounded()` and `rounded(.up)` call `round` and `ceil` in libm: a call through
/// the PLT for every jitter draw and every shaper deadline. Truncation is one instruction, and the
/// fraction `x − trunc(x)` is exact (Sterbenz), so these give the same result as
/// `Int64(x.rounded())` and `Int64(x.rounded(.up))` for every x in Int64's range (and trap, as
/// those do, outside it).
public enum WholeNumbers {
    /// `Int64(x.rounded())`: to the nearest whole number, halves away from zero.
    @inlinable @inline(__always)
    public static func nearest(_ x: Double) -> Int64 {
        let whole = Int64(x)
        let fraction = x - Double(whole)
        if fraction >= 0.5 { return whole + 1 }
        if fraction <= -0.5 { return whole - 1 }
        return whole
    }

    /// `Int64(x.rounded(.up))`: the smallest whole number not below x.
    @inlinable @inline(__always)
    public static func up(_ x: Double) -> Int64 {
        let whole = Int64(x)
        return Double(whole) < x ? whole + 1 : whole
    }
}
