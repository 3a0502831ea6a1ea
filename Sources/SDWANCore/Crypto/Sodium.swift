import CSodium

// The one file of the core that calls libsodium (docs/architecture.md, "Crypto"). Everything else
// goes through the typed API below or the wrappers built on it (ChaChaPoly, X25519, BLAKE2b,
// SecretBytes, the random sources). Sizes are checked with preconditions: a wrong size here is a
// programmer error, never a property of network input (callers validate lengths first).

/// Thin typed access to libsodium 1.0.18.
@usableFromInline
enum Sodium {
    /// `sodium_init()` runs once, on first use, before any other libsodium call (it picks the
    /// fastest implementations and seeds `randombytes`). Swift initialises globals lazily and once.
    @usableFromInline
    static let initialized: Bool = sodium_init() >= 0

    @inlinable
    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise")
    }

    // MARK: Random bytes

    /// Fills `buffer` from the operating system's CSPRNG (getrandom(2) behind libsodium).
    static func randomBytes(_ buffer: UnsafeMutableRawBufferPointer) {
        ensureInitialized()
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }

    /// Fills `buffer` with ChaCha20 output keyed by `seed` (32 bytes): the same seed, the same bytes.
    static func deterministicBytes(_ buffer: UnsafeMutableRawBufferPointer, seed: UnsafeRawBufferPointer) {
        ensureInitialized()
        precondition(seed.count == Int(randombytes_SEEDBYTES))
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf_deterministic(base, buffer.count, seed.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }

    // MARK: Guarded memory

    /// `sodium_malloc`: guard pages around the region, locked against swapping where the system
    /// allows. `nil` when memory is exhausted.
    static func secureAllocate(_ count: Int) -> UnsafeMutableRawPointer? {
        ensureInitialized()
        return sodium_malloc(count)
    }

    /// `sodium_free` zeroes the region before releasing it.
    static func secureFree(_ pointer: UnsafeMutableRawPointer) {
        sodium_free(pointer)
    }

    static func zero(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        sodium_memzero(base, buffer.count)
    }

    /// Constant-time comparison of two equally long regions.
    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard a.count > 0 else { return true }
        return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
    }

    // MARK: X25519 (RFC 7748)

    static let x25519KeyLength = Int(crypto_scalarmult_BYTES)

    /// `out = scalar · basepoint`.
    static func x25519Base(out: UnsafeMutableRawBufferPointer, scalar: UnsafeRawBufferPointer) {
        ensureInitialized()
        precondition(out.count == x25519KeyLength && scalar.count == x25519KeyLength)
        _ = crypto_scalarmult_base(u8(out), u8(scalar))
    }

    /// `out = scalar · point`; `false` when the result is the all-zero point (a low-order input),
    /// which Noise §12.1 lets us refuse and WireGuard refuses.
    static func x25519(
        out: UnsafeMutableRawBufferPointer,
        scalar: UnsafeRawBufferPointer,
        point: UnsafeRawBufferPointer
    ) -> Bool {
        ensureInitialized()
        precondition(
            out.count == x25519KeyLength && scalar.count == x25519KeyLength && point.count == x25519KeyLength
        )
        return crypto_scalarmult(u8(out), u8(scalar), u8(point)) == 0
    }

    // MARK: ChaCha20-Poly1305 IETF (RFC 8439)

    static let aeadKeyLength = Int(crypto_aead_chacha20poly1305_ietf_KEYBYTES)
    static let aeadNonceLength = Int(crypto_aead_chacha20poly1305_ietf_NPUBBYTES)
    static let aeadTagLength = Int(crypto_aead_chacha20poly1305_ietf_ABYTES)

    /// Encrypts `text` in place and writes the 16-byte tag to `tag`.
    @usableFromInline
    static func aeadSealInPlace(
        text: UnsafeMutableRawBufferPointer,
        tag: UnsafeMutableRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        key: UnsafeRawBufferPointer
    ) {
        precondition(tag.count == aeadTagLength && nonce.count == aeadNonceLength && key.count == aeadKeyLength)
        var tagLength: UInt64 = 0
        withTextPointer(text) { t in
            _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                t,
                u8(tag),
                &tagLength,
                t,
                UInt64(text.count),
                associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self),
                UInt64(associatedData.count),
                nil,
                u8(nonce),
                u8(key)
            )
        }
    }

    /// Verifies the tag and decrypts `text` in place; `false` when the tag does not verify, in
    /// which case libsodium has zeroed `text`.
    @usableFromInline
    static func aeadOpenInPlace(
        text: UnsafeMutableRawBufferPointer,
        tag: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        key: UnsafeRawBufferPointer
    ) -> Bool {
        precondition(tag.count == aeadTagLength && nonce.count == aeadNonceLength && key.count == aeadKeyLength)
        return withTextPointer(text) { t in
            let status = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                t,
                nil,
                t,
                UInt64(text.count),
                u8(tag),
                associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self),
                UInt64(associatedData.count),
                u8(nonce),
                u8(key)
            )
            return status == 0
        }
    }

    // MARK: BLAKE2b (RFC 7693)

    static let blake2bMaxOutput = Int(crypto_generichash_blake2b_BYTES_MAX)
    static let blake2bMaxKey = Int(crypto_generichash_blake2b_KEYBYTES_MAX)

    /// An incremental BLAKE2b state (`crypto_generichash_blake2b_state`, 384 bytes, 64-aligned).
    struct Blake2bState: ~Copyable {
        // The C struct is declared 64-byte aligned, which Swift imports as an opaque pointer.
        private let state: UnsafeMutableRawPointer
        private let outputLength: Int
        private static let stateSize = crypto_generichash_blake2b_statebytes()

        /// Starts a hash with `outputLength` (1...64) bytes of output and an optional key (≤ 64).
        init(outputLength: Int, key: UnsafeRawBufferPointer?) {
            ensureInitialized()
            precondition((1...blake2bMaxOutput).contains(outputLength) && (key?.count ?? 0) <= blake2bMaxKey)
            state = .allocate(byteCount: Self.stateSize, alignment: 64)
            self.outputLength = outputLength
            _ = crypto_generichash_blake2b_init(
                OpaquePointer(state),
                key.flatMap { $0.count > 0 ? $0.baseAddress?.assumingMemoryBound(to: UInt8.self) : nil },
                key?.count ?? 0,
                outputLength
            )
        }

        func update(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count > 0 else { return }
            _ = crypto_generichash_blake2b_update(OpaquePointer(state), u8(bytes), UInt64(bytes.count))
        }

        /// Writes the digest to `out` (exactly the output length).
        consuming func finish(into out: UnsafeMutableRawBufferPointer) {
            precondition(out.count == outputLength)
            _ = crypto_generichash_blake2b_final(OpaquePointer(state), u8(out), outputLength)
        }

        deinit {
            sodium_memzero(state, Self.stateSize)
            state.deallocate()
        }
    }

    // MARK: Base64 (RFC 4648 §4, with padding: WireGuard's key format)

    static func base64Encode(_ bytes: UnsafeRawBufferPointer) -> String {
        ensureInitialized()
        let variant = Int32(sodium_base64_VARIANT_ORIGINAL)
        let length = sodium_base64_encoded_len(bytes.count, variant)
        var out = [CChar](repeating: 0, count: length)
        _ = out.withUnsafeMutableBufferPointer { o in
            sodium_bin2base64(
                o.baseAddress!,
                length,
                bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                bytes.count,
                variant
            )
        }
        let text = String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        sodium_memzero(&out, out.count)
        return text
    }

    /// Decodes padded base64 into `out`; returns the decoded length, or `nil` when the text is not
    /// valid base64 or decodes to more than `out.count` bytes. Surrounding whitespace is ignored.
    static func base64Decode(_ text: String, into out: UnsafeMutableRawBufferPointer) -> Int? {
        ensureInitialized()
        var utf8 = Array(text.utf8)
        defer { sodium_memzero(&utf8, utf8.count) }
        var decoded = 0
        let ignore: StaticString = " \t\r\n"
        let status = utf8.withUnsafeBufferPointer { input in
            ignore.withUTF8Buffer { ignoreBytes in
                sodium_base642bin(
                    u8(out),
                    out.count,
                    input.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                    input.count,
                    UnsafeRawPointer(ignoreBytes.baseAddress!).assumingMemoryBound(to: CChar.self),
                    &decoded,
                    nil,
                    Int32(sodium_base64_VARIANT_ORIGINAL)
                )
            }
        }
        return status == 0 ? decoded : nil
    }

    /// Runs `body` with a non-null pointer to `text` (libsodium wants one even for zero bytes).
    @usableFromInline
    static func withTextPointer<R>(
        _ text: UnsafeMutableRawBufferPointer,
        _ body: (UnsafeMutablePointer<UInt8>) -> R
    ) -> R {
        if let base = text.baseAddress { return body(base.assumingMemoryBound(to: UInt8.self)) }
        var empty: UInt8 = 0
        return withUnsafeMutablePointer(to: &empty) { body($0) }
    }

    @usableFromInline @inline(__always)
    static func u8(_ p: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<UInt8> {
        p.baseAddress!.assumingMemoryBound(to: UInt8.self)
    }

    @usableFromInline @inline(__always)
    static func u8(_ p: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
        p.baseAddress!.assumingMemoryBound(to: UInt8.self)
    }
}
