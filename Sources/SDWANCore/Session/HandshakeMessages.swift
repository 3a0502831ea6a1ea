import NIOCore

/// The tunnel's handshake messages (docs/crypto.md "Messages"): Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b
/// in WireGuard's layouts, with the version byte and link id of our container (wire-format.md §2).
///
/// Initiation (148 bytes): type 1 ‖ version ‖ link id ‖ reserved ‖ sender index (4) ‖ ephemeral (32)
/// ‖ encrypted static (48) ‖ encrypted TAI64N timestamp (28) ‖ mac1 (16) ‖ mac2 (16).
/// Response (92 bytes): type 2 ‖ version ‖ link id ‖ reserved ‖ sender index (4) ‖ receiver index
/// (4) ‖ ephemeral (32) ‖ encrypted empty payload (16) ‖ mac1 (16) ‖ mac2 (16).
public enum HandshakeWire {
    /// Noise prologue: the protocol and its version, so peers of different versions never agree.
    public static let prologue: [UInt8] = Array("sdwan v1".utf8)
    /// The handshake pattern of the tunnel (Noise §7.5 IK with §9.2 psk2, as WireGuard).
    public static let pattern = HandshakePattern.named("IKpsk2")!

    public static let initiationLength = 148
    public static let responseLength = 92
    public static let macLength = 16
    static let senderIndexOffset = 4
    static let responseReceiverIndexOffset = 8
    /// Where the Noise message starts and its length.
    static let initiationNoiseOffset = 8
    static let initiationNoiseLength = 32 + 48 + 28
    static let responseNoiseOffset = 12
    static let responseNoiseLength = 32 + 16
    static let initiationMac1Offset = 116
    static let responseMac1Offset = 60
    /// WireGuard's label for the mac1 key.
    static let mac1Label: [UInt8] = Array("mac1----".utf8)

    /// mac1's key for messages to the holder of `publicKey`: BLAKE2b-256("mac1----" ‖ public key)
    /// (WireGuard §5.4.4 with BLAKE2b in place of BLAKE2s).
    public static func mac1Key(for publicKey: PublicKey) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: 32)
        mac1Label.withUnsafeBytes { label in
            publicKey.bytes.withUnsafeBytes { pub in
                key.withUnsafeMutableBytes { BLAKE2b.hash(parts: [label, pub], into: $0) }
            }
        }
        return key
    }

    /// mac1 = keyed BLAKE2b-128(mac1 key, every byte before mac1).
    static func mac1(key: [UInt8], covering bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: macLength)
        key.withUnsafeBytes { k in mac.withUnsafeMutableBytes { BLAKE2b.keyedHash(key: k, bytes, into: $0) } }
        return mac
    }

    /// Writes mac1 (and a zero mac2) into a complete message held in `message`.
    static func writeMacs(_ message: inout [UInt8], mac1Offset: Int, key: [UInt8]) {
        let mac = message.withUnsafeBytes {
            mac1(key: key, covering: UnsafeRawBufferPointer(rebasing: $0[0..<mac1Offset]))
        }
        message.replaceSubrange(mac1Offset..<(mac1Offset + macLength), with: mac)
        message.replaceSubrange(
            (mac1Offset + macLength)..<(mac1Offset + 2 * macLength),
            with: [UInt8](repeating: 0, count: macLength)
        )
    }

    /// The first checks on a received handshake message, all before any Diffie-Hellman: type,
    /// length, version, reserved byte, mac1 (constant time), mac2. `nil` when it passes.
    static func checkClearParts(
        _ buffer: ByteBuffer,
        type: MessageType,
        length: Int,
        mac1Offset: Int,
        mac1Key: [UInt8]
    ) -> SessionDropReason? {
        let at = buffer.readerIndex
        guard let typeByte = buffer.getInteger(at: at, as: UInt8.self) else { return .truncated }
        guard typeByte == type.rawValue else { return .wrongMessageType }
        guard buffer.readableBytes >= length else { return .truncated }
        guard buffer.getInteger(at: at + 1, as: UInt8.self) == WireFormat.version else { return .unsupportedVersion }
        guard buffer.getInteger(at: at + 3, as: UInt8.self) == 0 else { return .reservedBitsSet }
        guard buffer.readableBytes == length else { return .trailingBytes }
        let macOK = buffer.withUnsafeReadableBytes { bytes in
            let expected = mac1(key: mac1Key, covering: UnsafeRawBufferPointer(rebasing: bytes[0..<mac1Offset]))
            return expected.withUnsafeBytes {
                Sodium.constantTimeEqual(
                    $0,
                    UnsafeRawBufferPointer(rebasing: bytes[mac1Offset..<(mac1Offset + macLength)])
                )
            }
        }
        guard macOK else { return .mac1Invalid }
        let mac2Start = at + mac1Offset + macLength
        guard buffer.getBytes(at: mac2Start, length: macLength)?.allSatisfy({ $0 == 0 }) == true else {
            return .mac2Invalid
        }
        return nil
    }

    /// The message type of a datagram, for demultiplexing; `nil` when empty or unknown.
    public static func messageType(of datagram: ByteBuffer) -> MessageType? {
        datagram.getInteger(at: datagram.readerIndex, as: UInt8.self).flatMap(MessageType.init(rawValue:))
    }

    /// The drop reason for a Noise failure while reading a handshake message.
    static func dropReason(_ error: NoiseError) -> SessionDropReason {
        switch error {
        case .lowOrderPoint: .lowOrderPoint
        case .staticKeyRefused: .unknownStaticKey
        case .truncated, .decryptionFailed, .protocolMisuse, .nonceExhausted: .handshakeDecryptionFailed
        }
    }
}

/// A datagram the session wants sent, with the link to send it on.
public struct SessionTransmit: Sendable {
    public enum Kind: Hashable, Sendable {
        case initiation
        case response
        /// An empty transport packet (timestamp, no frames) under new keys: confirms them to the hub.
        case keepalive
    }

    public var linkID: UInt8
    public var kind: Kind
    public var datagram: ByteBuffer

    public init(linkID: UInt8, kind: Kind, datagram: ByteBuffer) {
        self.linkID = linkID
        self.kind = kind
        self.datagram = datagram
    }
}

/// What a session reports to its owner (polled with `pollEvent()`).
public enum SessionEvent: Hashable, Sendable {
    /// The first session is established (edge: response received; hub: first packet under it).
    case handshakeCompleted(localIndex: UInt32)
    /// New keys replaced old ones; the old stay acceptable for receiving until reject-after.
    case rekeyed(localIndex: UInt32)
    /// The sending key passed reject-after with no replacement: nothing can be sent until a
    /// handshake completes.
    case keysExpired
    /// A session was discarded; its local index is free (the hub unmaps it).
    case sessionRetired(localIndex: UInt32)
}
