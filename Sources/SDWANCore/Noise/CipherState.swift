/// Why a Noise operation failed. Network input that fails is dropped by the caller, never trapped on.
public enum NoiseError: Error, Hashable, Sendable, CaseIterable {
    /// The message is shorter than its tokens and tag need.
    case truncated
    /// An AEAD tag did not verify (wrong key, prologue, transcript, or a flipped bit).
    case decryptionFailed
    /// A Diffie-Hellman result was all zeros: the peer sent a low-order point (Noise §12.1).
    case lowOrderPoint
    /// The responder's callback refused the initiator's static key after it was decrypted.
    case staticKeyRefused
    /// A message was written or read out of turn, after the end, or a key the pattern needs is missing.
    case protocolMisuse
    /// The 64-bit nonce reached 2^64 − 1, which Noise §5.1 reserves.
    case nonceExhausted
}

/// Noise rev. 34 §5.1: a CipherState, the key k (absent until MixKey) and the nonce n.
///
/// The key lives in guarded memory. ENCRYPT(k, n, ad, plaintext) is ChaCha20-Poly1305 IETF with
/// the nonce "32 bits of zeros followed by the little-endian encoding of n" (§12.3).
public struct CipherState: ~Copyable {
    private var key: SecretBytes
    /// Whether InitializeKey has run (`HasKey()` of §5.1).
    public private(set) var hasKey: Bool
    /// The next nonce to use.
    public private(set) var nonce: UInt64 = 0

    /// An empty CipherState (k = empty).
    public init() {
        key = SecretBytes(zeroedCount: ChaChaPoly.keyLength)
        hasKey = false
    }

    /// A CipherState holding `key` (32 bytes), n = 0.
    public init(key: consuming SecretBytes) {
        precondition(key.count == ChaChaPoly.keyLength)
        self.key = key
        hasKey = true
    }

    /// InitializeKey(k): copies the first 32 bytes of `bytes` and resets n to 0.
    mutating func initializeKey(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= ChaChaPoly.keyLength)
        key.withUnsafeMutableBytes {
            $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<ChaChaPoly.keyLength]))
        }
        hasKey = true
        nonce = 0
    }

    /// An explicit copy (key included), so a receiver can try a message without spending its state.
    public func duplicate() -> CipherState {
        var copy = CipherState()
        copy.key = key.duplicate()
        copy.hasKey = hasKey
        copy.nonce = nonce
        return copy
    }

    private static func withNonce<R>(_ n: UInt64, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        // Three UInt32s: 12 contiguous bytes, no padding (a (UInt32, UInt64) tuple would have 4).
        var bytes: (UInt32, UInt32, UInt32) = (
            0, UInt32(truncatingIfNeeded: n).littleEndian, UInt32(truncatingIfNeeded: n >> 32).littleEndian
        )
        return withUnsafeBytes(of: &bytes) { body($0) }
    }

    /// EncryptWithAd(ad, plaintext): the plaintext unchanged when there is no key, otherwise the
    /// ciphertext followed by the 16-byte tag, and n += 1.
    public mutating func encrypt(associatedData ad: [UInt8], plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard hasKey else { return plaintext }
        guard nonce < UInt64.max else { throw .nonceExhausted }
        var out = plaintext + [UInt8](repeating: 0, count: ChaChaPoly.tagLength)
        let textLength = plaintext.count
        let n = nonce
        out.withUnsafeMutableBytes { buf in
            ad.withUnsafeBytes { adBytes in
                Self.withNonce(n) { nonceBytes in
                    ChaChaPoly.seal(
                        UnsafeMutableRawBufferPointer(rebasing: buf[0..<textLength]),
                        tag: UnsafeMutableRawBufferPointer(rebasing: buf[textLength...]),
                        associatedData: adBytes,
                        nonce: nonceBytes,
                        key: key
                    )
                }
            }
        }
        nonce += 1
        return out
    }

    /// DecryptWithAd(ad, ciphertext): the plaintext, or an error (n is then unchanged, §5.1).
    public mutating func decrypt(associatedData ad: [UInt8], ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard hasKey else { return ciphertext }
        guard nonce < UInt64.max else { throw .nonceExhausted }
        guard ciphertext.count >= ChaChaPoly.tagLength else { throw .truncated }
        var text = ciphertext
        let textLength = ciphertext.count - ChaChaPoly.tagLength
        let n = nonce
        let ok = text.withUnsafeMutableBytes { buf in
            ad.withUnsafeBytes { adBytes in
                Self.withNonce(n) { nonceBytes in
                    ChaChaPoly.open(
                        UnsafeMutableRawBufferPointer(rebasing: buf[0..<textLength]),
                        tag: UnsafeRawBufferPointer(rebasing: buf[textLength...]),
                        associatedData: adBytes,
                        nonce: nonceBytes,
                        key: key
                    )
                }
            }
        }
        guard ok else { throw .decryptionFailed }
        nonce += 1
        text.removeLast(ChaChaPoly.tagLength)
        return text
    }
}

/// Noise rev. 34 §5.2: the SymmetricState — chaining key ck, handshake hash h and a CipherState.
public struct SymmetricState: ~Copyable {
    /// ck, HASHLEN bytes, in guarded memory.
    private var chainingKey: SecretBytes
    /// h, HASHLEN bytes: the transcript hash (not secret; bound into every AEAD as associated data).
    public private(set) var handshakeHash: [UInt8]
    var cipher: CipherState

    /// InitializeSymmetric(protocol_name): h = name padded with zeros when it fits in HASHLEN,
    /// otherwise HASH(name); ck = h; k empty.
    public init(protocolName: String) {
        let name = Array(protocolName.utf8)
        var h = [UInt8](repeating: 0, count: NoiseHash.hashLength)
        if name.count <= NoiseHash.hashLength {
            h.replaceSubrange(0..<name.count, with: name)
        } else {
            name.withUnsafeBytes { n in h.withUnsafeMutableBytes { NoiseHash.hash([n], into: $0) } }
        }
        handshakeHash = h
        chainingKey = SecretBytes(copying: h)
        cipher = CipherState()
    }

    /// An explicit copy of the whole state (chaining key included).
    public func duplicate() -> SymmetricState {
        SymmetricState(chainingKey: chainingKey.duplicate(), handshakeHash: handshakeHash, cipher: cipher.duplicate())
    }

    private init(chainingKey: consuming SecretBytes, handshakeHash: [UInt8], cipher: consuming CipherState) {
        self.chainingKey = chainingKey
        self.handshakeHash = handshakeHash
        self.cipher = cipher
    }

    /// MixHash(data): h = HASH(h ‖ data).
    public mutating func mixHash(_ data: UnsafeRawBufferPointer) {
        var next = [UInt8](repeating: 0, count: NoiseHash.hashLength)
        handshakeHash.withUnsafeBytes { h in next.withUnsafeMutableBytes { NoiseHash.hash([h, data], into: $0) } }
        handshakeHash = next
    }

    public mutating func mixHash(_ data: [UInt8]) {
        data.withUnsafeBytes { mixHash($0) }
    }

    /// HKDF(ck, ikm, n) into a guarded scratch region, then `body` reads the outputs; ck is not
    /// updated here.
    private func derive<R>(_ ikm: UnsafeRawBufferPointer, count: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let length = NoiseHash.hashLength
        let scratch = SecretBytes(count: count * length) { out in
            chainingKey.withUnsafeBytes { ck in
                NoiseHash.hkdf(
                    chainingKey: ck,
                    inputKeyMaterial: ikm,
                    outputs: (0..<count).map {
                        UnsafeMutableRawBufferPointer(rebasing: out[($0 * length)..<(($0 + 1) * length)])
                    }
                )
            }
        }
        return scratch.withUnsafeBytes { body($0) }
    }

    /// MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k truncated to 32 bytes).
    public mutating func mixKey(_ ikm: UnsafeRawBufferPointer) {
        let length = NoiseHash.hashLength
        var newCK = SecretBytes(zeroedCount: length)
        var newK = SecretBytes(zeroedCount: ChaChaPoly.keyLength)
        derive(ikm, count: 2) { out in
            newCK.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: out[0..<length])) }
            newK.withUnsafeMutableBytes {
                $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: out[length..<(length + ChaChaPoly.keyLength)]))
            }
        }
        chainingKey = newCK
        newK.withUnsafeBytes { cipher.initializeKey($0) }
    }

    /// MixKeyAndHash(ikm) (§5.2, used by `psk`): ck, temp_h, temp_k = HKDF(ck, ikm, 3);
    /// MixHash(temp_h); InitializeKey(temp_k truncated to 32 bytes).
    public mutating func mixKeyAndHash(_ ikm: UnsafeRawBufferPointer) {
        let length = NoiseHash.hashLength
        var newCK = SecretBytes(zeroedCount: length)
        var newK = SecretBytes(zeroedCount: ChaChaPoly.keyLength)
        var tempH = [UInt8](repeating: 0, count: length)
        derive(ikm, count: 3) { out in
            newCK.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: out[0..<length])) }
            tempH = Array(out[length..<(2 * length)])
            newK.withUnsafeMutableBytes {
                $0.copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: out[(2 * length)..<(2 * length + ChaChaPoly.keyLength)])
                )
            }
        }
        chainingKey = newCK
        mixHash(tempH)
        newK.withUnsafeBytes { cipher.initializeKey($0) }
    }

    /// EncryptAndHash(plaintext): ciphertext = EncryptWithAd(h, plaintext); MixHash(ciphertext).
    public mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let ciphertext = try cipher.encrypt(associatedData: handshakeHash, plaintext: plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    /// DecryptAndHash(ciphertext): plaintext = DecryptWithAd(h, ciphertext); MixHash(ciphertext).
    public mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let plaintext = try cipher.decrypt(associatedData: handshakeHash, ciphertext: ciphertext)
        mixHash(ciphertext)
        return plaintext
    }

    /// Split(): temp_k1, temp_k2 = HKDF(ck, zerolen, 2), each truncated to 32 bytes. The first key
    /// encrypts initiator → responder, the second responder → initiator.
    public func split() -> NoiseSplit {
        let length = NoiseHash.hashLength
        let keyLength = ChaChaPoly.keyLength
        var k1 = SecretBytes(zeroedCount: keyLength)
        var k2 = SecretBytes(zeroedCount: keyLength)
        derive(UnsafeRawBufferPointer(start: nil, count: 0), count: 2) { out in
            k1.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: out[0..<keyLength])) }
            k2.withUnsafeMutableBytes {
                $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: out[length..<(length + keyLength)]))
            }
        }
        return NoiseSplit(initiatorToResponder: k1, responderToInitiator: k2)
    }
}

/// The two transport keys Split() derives, 32 bytes each, in guarded memory.
public struct NoiseSplit: ~Copyable {
    /// Encrypts what the initiator sends (Noise's c1).
    public var initiatorToResponder: SecretBytes
    /// Encrypts what the responder sends (Noise's c2).
    public var responderToInitiator: SecretBytes
}
