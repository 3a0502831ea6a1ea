/// Secret material (private keys, pre-shared keys, chaining and transport keys) in guarded memory.
///
/// The storage comes from `sodium_malloc` (guard pages, locked against swap) and is zeroed and
/// released on deinit. The type is non-copyable and hands out only scoped borrows of its bytes, so
/// a secret exists in exactly one place and dies with its owner.
public struct SecretBytes: ~Copyable, @unchecked Sendable {
    private let base: UnsafeMutableRawPointer
    /// The secret's length in bytes.
    public let count: Int

    /// A zero-filled secret of `count` bytes.
    public init(zeroedCount count: Int) {
        precondition(count > 0, "a secret has at least one byte")
        guard let pointer = Sodium.secureAllocate(count) else {
            preconditionFailure("sodium_malloc failed: out of memory")
        }
        base = pointer
        self.count = count
        Sodium.zero(UnsafeMutableRawBufferPointer(start: pointer, count: count))
    }

    /// A secret of `count` bytes filled by `body`.
    public init(count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        self.init(zeroedCount: count)
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// A secret of `count` bytes drawn from `random`.
    public init(randomCount count: Int, using random: inout some RandomSource) {
        self.init(zeroedCount: count)
        random.fill(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// A copy of a borrowed region (for secrets that arrive in another secret's memory).
    public init(copying bytes: UnsafeRawBufferPointer) {
        self.init(zeroedCount: bytes.count)
        UnsafeMutableRawBufferPointer(start: base, count: count).copyMemory(from: bytes)
    }

    /// A secret holding a copy of `bytes` (test vectors, and key text decoded elsewhere).
    public init(copying bytes: [UInt8]) {
        self.init(zeroedCount: bytes.count)
        UnsafeMutableRawBufferPointer(start: base, count: count).copyBytes(from: bytes)
    }

    deinit {
        Sodium.secureFree(base)
    }

    /// Scoped read access; the pointer must not escape `body`.
    public func withUnsafeBytes<R: ~Copyable>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Scoped write access; the pointer must not escape `body`.
    public mutating func withUnsafeMutableBytes<R: ~Copyable>(
        _ body: (UnsafeMutableRawBufferPointer) throws -> R
    ) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// Constant-time equality of contents.
    public func constantTimeEquals(_ other: borrowing SecretBytes) -> Bool {
        other.withUnsafeBytes { o in self.withUnsafeBytes { Sodium.constantTimeEqual($0, o) } }
    }

    /// A new secret holding the same bytes; explicit, so every copy of a secret is visible in code.
    public func duplicate() -> SecretBytes {
        self.withUnsafeBytes { SecretBytes(copying: $0) }
    }
}

extension SecretBytes {
    /// Zeroes a plain array that briefly held secret text (a key file being parsed), with
    /// `sodium_memzero` so the compiler cannot drop the stores.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { Sodium.zero($0) }
    }
}
