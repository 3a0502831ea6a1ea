/// ChaCha20-Poly1305 IETF (RFC 8439 §2.8): 256-bit key, 96-bit nonce, 128-bit tag.
public enum ChaChaPoly {
    public static let keyLength = 32
    public static let nonceLength = 12
    public static let tagLength = 16

    /// Encrypts `text` in place, authenticating `associatedData` too, and writes the tag to `tag`.
    @inlinable
    public static func seal(
        _ text: UnsafeMutableRawBufferPointer,
        tag: UnsafeMutableRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        key: borrowing SecretBytes
    ) {
        key.withUnsafeBytes { k in
            Sodium.aeadSealInPlace(text: text, tag: tag, associatedData: associatedData, nonce: nonce, key: k)
        }
    }

    /// Verifies and decrypts `text` in place. Returns `false` when the tag does not verify (wrong
    /// key, nonce, associated data or any flipped bit); libsodium then zeroes `text`, so a caller
    /// that needs the ciphertext after a failure must open a copy. No caller does: the receiver
    /// picks the one key by receiver index and drops a packet that fails.
    @inlinable
    public static func open(
        _ text: UnsafeMutableRawBufferPointer,
        tag: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        key: borrowing SecretBytes
    ) -> Bool {
        key.withUnsafeBytes { k in
            Sodium.aeadOpenInPlace(text: text, tag: tag, associatedData: associatedData, nonce: nonce, key: k)
        }
    }
}
