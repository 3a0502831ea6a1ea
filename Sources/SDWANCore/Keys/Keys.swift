/// Keys in WireGuard's format: 32 bytes, written as 44 characters of padded base64, so the habits
/// operators have from `wg genkey | wg pubkey` carry over to `sdwan genkey | sdwan pubkey`.

/// Why a key's text was refused.
public enum KeyParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not base64 at all.
    case notBase64
    /// Base64, but not 32 bytes.
    case wrongLength(Int)

    public var description: String {
        switch self {
        case .notBase64: "not a base64 key (expected 44 characters such as the output of `sdwan genkey`)"
        case .wrongLength(let n): "decodes to \(n) bytes; a key is 32 bytes (44 base64 characters)"
        }
    }
}

/// An X25519 public key: not secret, freely copyable, hashable for lookups.
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    /// The 32 key bytes.
    public let bytes: [UInt8]

    init(validatedBytes: [UInt8]) {
        precondition(validatedBytes.count == X25519.keyLength)
        bytes = validatedBytes
    }

    /// A public key from 32 raw bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == X25519.keyLength else { return nil }
        self.bytes = Array(bytes)
    }

    /// A public key from WireGuard-style base64.
    public init(base64 text: String) throws(KeyParseError) {
        var raw = [UInt8](repeating: 0, count: 64)
        let n = raw.withUnsafeMutableBytes { Sodium.base64Decode(text, into: $0) }
        guard let n else { throw .notBase64 }
        guard n == X25519.keyLength else { throw .wrongLength(n) }
        bytes = Array(raw[0..<n])
    }

    public var base64: String { bytes.withUnsafeBytes { Sodium.base64Encode($0) } }
    public var description: String { base64 }
}

/// Decodes 32 secret bytes from base64 straight into guarded memory.
private func decodeSecret(_ text: String) throws(KeyParseError) -> SecretBytes {
    var scratch = SecretBytes(zeroedCount: 64)
    let n = scratch.withUnsafeMutableBytes { Sodium.base64Decode(text, into: $0) }
    guard let n else { throw .notBase64 }
    guard n == 32 else { throw .wrongLength(n) }
    return scratch.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[0..<32])) }
}

/// An X25519 private key in guarded, non-copyable memory.
public struct PrivateKey: ~Copyable, Sendable {
    /// The 32 scalar bytes.
    public let secret: SecretBytes

    /// A new key from `random`, clamped as RFC 7748 §5 (and `wg genkey`) do.
    public static func generate(using random: inout some RandomSource) -> PrivateKey {
        var secret = SecretBytes(randomCount: X25519.keyLength, using: &random)
        secret.withUnsafeMutableBytes { b in
            b[0] &= 248
            b[31] = (b[31] & 127) | 64
        }
        return PrivateKey(secret: secret)
    }

    public init(secret: consuming SecretBytes) {
        precondition(secret.count == X25519.keyLength)
        self.secret = secret
    }

    /// A private key from WireGuard-style base64 (a key file's contents, whitespace ignored).
    public init(base64 text: String) throws(KeyParseError) {
        secret = try decodeSecret(text)
    }

    /// The matching public key.
    public var publicKey: PublicKey { X25519.publicKey(of: secret) }

    /// The key as base64, for writing a key file (`sdwan genkey`) and nothing else.
    public func base64ForKeyFile() -> String { secret.withUnsafeBytes { Sodium.base64Encode($0) } }
}

/// A 32-byte pre-shared key (Noise `psk`, WireGuard's `PresharedKey`), guarded and non-copyable.
public struct PresharedKey: ~Copyable, Sendable {
    public static let length = 32
    public let secret: SecretBytes

    /// A new random PSK (`sdwan genpsk`).
    public static func generate(using random: inout some RandomSource) -> PresharedKey {
        PresharedKey(secret: SecretBytes(randomCount: length, using: &random))
    }

    public init(secret: consuming SecretBytes) {
        precondition(secret.count == Self.length)
        self.secret = secret
    }

    public init(base64 text: String) throws(KeyParseError) {
        secret = try decodeSecret(text)
    }

    /// The all-zero PSK that Noise and WireGuard use when a peer has none configured.
    public static func none() -> PresharedKey { PresharedKey(secret: SecretBytes(zeroedCount: length)) }

    /// The key as base64, for writing a key file (`sdwan genpsk`) and nothing else.
    public func base64ForKeyFile() -> String { secret.withUnsafeBytes { Sodium.base64Encode($0) } }
}
