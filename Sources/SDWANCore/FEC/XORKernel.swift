/// The inner loop of XOR parity (RFC 5109 §10.1 "FEC packet generation"): `accumulator ^= source`,
/// byte for byte, over raw pointers.
///
/// Word-at-a-time: four unaligned 16-byte vector loads and stores per step (64 bytes), then
/// 16-byte vectors, 8-byte words and single bytes. No allocation, no bounds checks inside the loop.
/// Benchmarked against a plain C loop built in the same package (`swift run -c release
/// sdwan-bench fec`): a 4 × UInt64 step ran at 0.92× the C loop's throughput, this one at ≥ 1×.
public enum XORKernel {
    /// XORs `source` into the first `source.count` bytes of `accumulator`; the rest of the
    /// accumulator is untouched (zero padding of a shorter member, RFC 5109 §10.1).
    @inlinable
    public static func xor(_ source: UnsafeRawBufferPointer, into accumulator: UnsafeMutableRawBufferPointer) {
        precondition(accumulator.count >= source.count, "accumulator shorter than the member")
        guard let s = source.baseAddress, let a = accumulator.baseAddress else { return }
        xor(s, into: a, count: source.count)
    }

    /// XORs `count` bytes at `source` into `accumulator`.
    @inlinable
    public static func xor(_ source: UnsafeRawPointer, into accumulator: UnsafeMutableRawPointer, count: Int) {
        var i = 0
        while i &+ 64 <= count {
            let s0 = source.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            let s1 = source.loadUnaligned(fromByteOffset: i &+ 16, as: SIMD16<UInt8>.self)
            let s2 = source.loadUnaligned(fromByteOffset: i &+ 32, as: SIMD16<UInt8>.self)
            let s3 = source.loadUnaligned(fromByteOffset: i &+ 48, as: SIMD16<UInt8>.self)
            let a0 = accumulator.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            let a1 = accumulator.loadUnaligned(fromByteOffset: i &+ 16, as: SIMD16<UInt8>.self)
            let a2 = accumulator.loadUnaligned(fromByteOffset: i &+ 32, as: SIMD16<UInt8>.self)
            let a3 = accumulator.loadUnaligned(fromByteOffset: i &+ 48, as: SIMD16<UInt8>.self)
            accumulator.storeBytes(of: a0 ^ s0, toByteOffset: i, as: SIMD16<UInt8>.self)
            accumulator.storeBytes(of: a1 ^ s1, toByteOffset: i &+ 16, as: SIMD16<UInt8>.self)
            accumulator.storeBytes(of: a2 ^ s2, toByteOffset: i &+ 32, as: SIMD16<UInt8>.self)
            accumulator.storeBytes(of: a3 ^ s3, toByteOffset: i &+ 48, as: SIMD16<UInt8>.self)
            i &+= 64
        }
        while i &+ 16 <= count {
            let s0 = source.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            let a0 = accumulator.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            accumulator.storeBytes(of: a0 ^ s0, toByteOffset: i, as: SIMD16<UInt8>.self)
            i &+= 16
        }
        while i &+ 8 <= count {
            let s0 = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let a0 = accumulator.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            accumulator.storeBytes(of: a0 ^ s0, toByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        while i < count {
            let s0 = source.load(fromByteOffset: i, as: UInt8.self)
            let a0 = accumulator.load(fromByteOffset: i, as: UInt8.self)
            accumulator.storeBytes(of: a0 ^ s0, toByteOffset: i, as: UInt8.self)
            i &+= 1
        }
    }

    /// Whether every byte of `bytes` is zero (the padding check on a recovered member).
    @inlinable
    public static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let p = bytes.baseAddress else { return true }
        var i = 0
        var acc: UInt64 = 0
        while i &+ 8 <= bytes.count {
            acc |= p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        while i < bytes.count {
            acc |= UInt64(p.load(fromByteOffset: i, as: UInt8.self))
            i &+= 1
        }
        return acc == 0
    }
}
