/// Why the session layer dropped a datagram: one exhaustive list, every drop counted under one
/// reason (docs/crypto.md "Drop reasons"). The first six mirror `ContainerError`.
public enum SessionDropReason: UInt8, Error, Hashable, Sendable, CaseIterable {
    // Container layer (docs/wire-format.md §7).
    case truncated = 0
    case wrongMessageType
    case unsupportedVersion
    case reservedBitsSet
    case authenticationFailed
    case unknownFrameType
    // Transport.
    /// No live session has this receiver index (never established, retired, or the peer restarted).
    case unknownReceiverIndex
    /// The counter was already received on this link under this key (RFC 6479).
    case replayed
    /// The counter is older than the link's replay window: cannot be told from a replay, refused.
    case counterTooOld
    /// The counter is above `WireFormat.counterLimit`.
    case counterBeyondLimit
    /// The key is older than `SessionTimers.rejectAfterTime` (reject-after).
    case keysExpired
    // Handshake.
    /// A handshake message longer than its fixed size.
    case trailingBytes
    /// mac1 does not verify: not meant for our static key, or altered; dropped before any DH.
    case mac1Invalid
    /// mac2 is not all zeros (reserved for cookies under load, not yet defined).
    case mac2Invalid
    /// A copy of an initiation the responder already answered (sent on several links at once).
    case duplicateInitiation
    /// A handshake AEAD failed (wrong static key, prologue, PSK, or forged content after mac1).
    case handshakeDecryptionFailed
    /// A peer's key was a low-order point (the DH result was all zeros).
    case lowOrderPoint
    /// The initiator's static key is not a configured branch: refused after the one DH that
    /// revealed it, before a second, before any state.
    case unknownStaticKey
    /// The initiation's TAI64N timestamp is not greater than the greatest accepted from this peer.
    case staleTimestamp
    /// The decrypted timestamp is not a valid TAI64N label.
    case invalidTimestamp

    /// The session-layer reason for a container error.
    public init(_ error: ContainerError) {
        switch error {
        case .truncated: self = .truncated
        case .wrongMessageType: self = .wrongMessageType
        case .unsupportedVersion: self = .unsupportedVersion
        case .reservedBitsSet: self = .reservedBitsSet
        case .authenticationFailed: self = .authenticationFailed
        case .unknownFrameType: self = .unknownFrameType
        }
    }
}

/// Drop counts indexed by reason, fixed size: counting a drop never allocates.
public struct SessionDropCounters: Hashable, Sendable {
    private var counts = [UInt64](repeating: 0, count: SessionDropReason.allCases.count)

    public init() {}

    public subscript(reason: SessionDropReason) -> UInt64 { counts[Int(reason.rawValue)] }

    public mutating func count(_ reason: SessionDropReason) { counts[Int(reason.rawValue)] &+= 1 }

    /// All drops, whatever the reason.
    public var total: UInt64 { counts.reduce(0, &+) }

    /// The non-zero counts in declaration order (metrics, reports).
    public var nonZero: [(SessionDropReason, UInt64)] {
        SessionDropReason.allCases.compactMap { counts[Int($0.rawValue)] > 0 ? ($0, counts[Int($0.rawValue)]) : nil }
    }
}

/// Why a packet could not be sealed; the engine drops the inner packet and counts it.
public enum SealError: Error, Hashable, Sendable {
    /// No confirmed session yet (handshake under way) or every key expired.
    case noSession
    /// The session's key is older than reject-after.
    case keysExpired
    /// The link's counter reached `WireFormat.counterLimit` under this key.
    case counterExhausted
}
