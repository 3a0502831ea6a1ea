/// X25519 Diffie-Hellman (RFC 7748 §5) through libsodium's `crypto_scalarmult`.
public enum X25519 {
    public static let keyLength = 32

    /// The public key of a private scalar.
    public static func publicKey(of privateKey: borrowing SecretBytes) -> PublicKey {
        var bytes = [UInt8](repeating: 0, count: keyLength)
        privateKey.withUnsafeBytes { s in bytes.withUnsafeMutableBytes { Sodium.x25519Base(out: $0, scalar: s) } }
        return PublicKey(validatedBytes: bytes)
    }

    /// The shared secret of `privateKey` and `publicKey`, or `nil` when the peer's key is of low
    /// order (the result would be all zeros: Noise §12.1, RFC 7748 §6.1).
    public static func sharedSecret(_ privateKey: borrowing SecretBytes, _ publicKey: PublicKey) -> SecretBytes? {
        var ok = false
        let secret = SecretBytes(count: keyLength) { out in
            privateKey.withUnsafeBytes { s in
                publicKey.bytes.withUnsafeBytes { p in ok = Sodium.x25519(out: out, scalar: s, point: p) }
            }
        }
        guard ok else { return nil }
        return secret
    }
}
