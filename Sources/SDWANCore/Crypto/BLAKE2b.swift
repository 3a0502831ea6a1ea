/// BLAKE2b (RFC 7693) through libsodium's `crypto_generichash_blake2b`.
public enum BLAKE2b {
    /// Noise §4.3: HASHLEN = 64, BLOCKLEN = 128 for BLAKE2b.
    public static let hashLength = 64
    public static let blockLength = 128

    /// Unkeyed hash of `input` with `out.count` bytes (1...64) of output.
    public static func hash(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        let state = Sodium.Blake2bState(outputLength: out.count, key: nil)
        state.update(input)
        state.finish(into: out)
    }

    /// Keyed hash (BLAKE2b's own MAC mode, key ≤ 64 bytes), as WireGuard's mac1/mac2 use it.
    public static func keyedHash(
        key: UnsafeRawBufferPointer,
        _ input: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) {
        let state = Sodium.Blake2bState(outputLength: out.count, key: key)
        state.update(input)
        state.finish(into: out)
    }

    /// Convenience for arrays.
    public static func hash(_ input: [UInt8], into out: inout [UInt8]) {
        input.withUnsafeBytes { i in out.withUnsafeMutableBytes { hash(i, into: $0) } }
    }

    /// An incremental hash of several parts (concatenated), `out.count` bytes of output.
    public static func hash(parts: [UnsafeRawBufferPointer], into out: UnsafeMutableRawBufferPointer) {
        let state = Sodium.Blake2bState(outputLength: out.count, key: nil)
        for part in parts { state.update(part) }
        state.finish(into: out)
    }
}
