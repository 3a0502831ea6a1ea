/// Where the core's randomness comes from: an explicit generator owned by the caller.
///
/// Two conformances exist, both backed by libsodium's ChaCha20-based generators, so key material
/// never comes from a non-cryptographic generator:
/// - `SystemRandomSource` (live nodes): `randombytes_buf` on every draw.
/// - `SeededRandomSource` (simulator, tests): `randombytes_buf_deterministic` keyed by a seed, so a
///   run is reproducible from its seed.
/// Conforming to `RandomNumberGenerator` lets `Int.random(in:using:)` and friends take either.
public protocol RandomSource: RandomNumberGenerator {
    /// Fills `buffer` with random bytes.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension RandomSource {
    /// A uniform double in [0, 1) with 53 bits of randomness.
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}

/// Randomness from the operating system, through libsodium's `randombytes_buf`, on every draw.
public struct SystemRandomSource: RandomSource, Sendable {
    public init() {}

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        Sodium.randomBytes(buffer)
    }

    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { Sodium.randomBytes($0) }
        return value
    }
}

/// A reproducible stream: `randombytes_buf_deterministic` (ChaCha20) keyed per 4 KiB block by
/// BLAKE2b(seed ‖ block number), so the stream is as long as needed and identical for one seed.
public struct SeededRandomSource: RandomSource, Sendable {
    private static let blockSize = 4096
    private let seed: UInt64
    private var block: UInt64 = 0
    private var pool: [UInt8]
    private var position: Int

    /// A generator for `seed`; the same seed always yields the same stream.
    public init(seed: UInt64) {
        self.seed = seed
        self.pool = [UInt8](repeating: 0, count: Self.blockSize)
        self.position = Self.blockSize
    }

    /// A generator whose stream is independent of this one's, for a named sub-component (e.g. one
    /// link model per link), so adding a component does not shift the draws of the others.
    public func derived(_ label: UInt64) -> SeededRandomSource {
        var mixed = seed ^ 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ label &* 0xBF58_476D_1CE4_E5B9) &* 0x94D0_49BB_1331_11EB
        return SeededRandomSource(seed: mixed ^ (mixed >> 31) ^ label)
    }

    private mutating func refill() {
        var input = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            input[i] = UInt8(truncatingIfNeeded: seed >> (8 * UInt64(i)))
            input[8 + i] = UInt8(truncatingIfNeeded: block >> (8 * UInt64(i)))
        }
        var key = [UInt8](repeating: 0, count: 32)
        BLAKE2b.hash(input, into: &key)
        pool.withUnsafeMutableBytes { out in
            key.withUnsafeBytes { Sodium.deterministicBytes(out, seed: $0) }
        }
        block &+= 1
        position = 0
    }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        while offset < buffer.count {
            if position == Self.blockSize { refill() }
            let n = min(buffer.count - offset, Self.blockSize - position)
            pool.withUnsafeBytes { src in
                buffer.baseAddress!.advanced(by: offset).copyMemory(from: src.baseAddress! + position, byteCount: n)
            }
            offset += n
            position += n
        }
    }

    public mutating func next() -> UInt64 {
        if position + 8 > Self.blockSize {
            var value: UInt64 = 0
            withUnsafeMutableBytes(of: &value) { fill($0) }
            return value
        }
        let value = pool.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: UInt64.self) }
        position += 8
        return value
    }
}
