import NIOCore

/// Lifecycle timers and limits of a session (WireGuard's `device/constants.go` values, docs/crypto.md
/// "Timers"). Tunable defaults, kept apart from the normative wire constants.
public enum SessionTimers {
    /// The initiator starts a new handshake when its current key is this old (REKEY_AFTER_TIME).
    public static let rekeyAfterTime = TimeSpan.seconds(120)
    /// A key this old is refused for sending and receiving (REJECT_AFTER_TIME).
    public static let rejectAfterTime = TimeSpan.seconds(180)
    /// The initiator rekeys when any link's counter reaches this (REKEY_AFTER_MESSAGES, 2^60).
    public static let rekeyAfterMessages: UInt64 = 1 << 60
    /// Handshake retries: first retry after `retryInitial`, doubling up to `retryMaximum`, each plus
    /// a uniform jitter in [0, `retryJitter`] (WireGuard: fixed 5 s + up to 333 ms).
    public static let retryInitial = TimeSpan.seconds(1)
    public static let retryMaximum = TimeSpan.seconds(5)
    public static let retryJitter = TimeSpan.milliseconds(333)
}

/// One established session: the two directional keys from Split(), a send counter per link and a
/// replay window per link (docs/crypto.md "Transport"). Created by a completed handshake, owned by
/// an `EdgeSession` or a `BranchSession`, found by its `localIndex` (the receiver index peers put
/// in their packets), never by trying keys.
public final class TransportSession {
    /// Our index: the receiver index of packets sent to us under this session.
    public let localIndex: UInt32
    /// The peer's index, written into the header of every packet we send.
    public let remoteIndex: UInt32
    /// When the handshake that made this session completed here; timers count from it.
    public let createdAt: Instant
    /// Whether we were the initiator of its handshake.
    public let isInitiator: Bool
    private let sendKey: SecretBytes
    private let receiveKey: SecretBytes
    /// Next counter per link id (256 link ids: 2 KiB, allocated once per session). Counters and
    /// replay windows are `ComponentTable`s changed in place: as arrays, every packet sealed or
    /// opened checked a buffer's uniqueness for each change.
    private let sendCounters = ComponentTable<UInt64>([UInt64](repeating: 0, count: 256))
    /// Link id → 1 + index into `windows`; 0 = no packet authenticated on that link yet.
    // Confined to the engine's thread like the engine itself: no dynamic exclusivity checks.
    @exclusivity(unchecked) private var windowSlot = [UInt16](repeating: 0, count: 256)
    private let windows = ComponentTable<ReplayWindow>()
    /// The greatest counter used on any link: drives rekey-after-messages.
    @exclusivity(unchecked) public private(set) var greatestSendCounter: UInt64 = 0
    /// A 64-bit identifier of the sending key: BLAKE2b-64("sdwan key id" ‖ key), one-way, for tests
    /// and diagnostics that must tell keys apart without seeing them.
    public let sendKeyID: UInt64
    /// Whether any packet has authenticated under this session (key confirmation, §5 of crypto.md).
    public private(set) var hasReceived = false
    /// The simulator's null cipher (`SimulationCipher`): the receiving key's id when it is on, `nil`
    /// (ChaCha20-Poly1305) otherwise and always on the live nodes.
    private let nullCipherReceiveKeyID: UInt64?

    /// A session from Split()'s keys; the initiator sends with c1, the responder with c2.
    public init(
        keys: borrowing NoiseSplit,
        isInitiator: Bool,
        localIndex: UInt32,
        remoteIndex: UInt32,
        createdAt: Instant
    ) {
        self.isInitiator = isInitiator
        self.localIndex = localIndex
        self.remoteIndex = remoteIndex
        self.createdAt = createdAt
        sendKey = isInitiator ? keys.initiatorToResponder.duplicate() : keys.responderToInitiator.duplicate()
        receiveKey = isInitiator ? keys.responderToInitiator.duplicate() : keys.initiatorToResponder.duplicate()
        var id: UInt64 = 0
        let label: [UInt8] = Array("sdwan key id".utf8)
        sendKey.withUnsafeBytes { key in
            label.withUnsafeBytes { l in withUnsafeMutableBytes(of: &id) { BLAKE2b.hash(parts: [l, key], into: $0) } }
        }
        sendKeyID = id
        if SimulationCipher.nullCipherEnabled {
            var receiveID: UInt64 = 0
            receiveKey.withUnsafeBytes { key in
                label.withUnsafeBytes { l in
                    withUnsafeMutableBytes(of: &receiveID) { BLAKE2b.hash(parts: [l, key], into: $0) }
                }
            }
            nullCipherReceiveKeyID = receiveID
        } else {
            nullCipherReceiveKeyID = nil
        }
    }

    /// Whether the key is past reject-after at `now`.
    @inline(__always)
    public func isExpired(at now: Instant) -> Bool { now - createdAt >= SessionTimers.rejectAfterTime }

    /// The counter the next packet on `linkID` will carry.
    public func nextCounter(on linkID: UInt8) -> UInt64 { sendCounters[Int(linkID)] }

    /// Seals a packet in place. On entry the readable bytes are `WireFormat.transportHeaderLength`
    /// reserved bytes followed by the plaintext payload (timestamp ‖ frames); the header is written
    /// here with this link's next counter, then the payload is encrypted and the tag appended.
    /// Returns the header used (its counter is the link's sequence number for the path monitor).
    public func seal(_ buffer: inout ByteBuffer, linkID: UInt8, now: Instant) -> Result<TransportHeader, SealError> {
        precondition(buffer.readableBytes >= WireFormat.transportHeaderLength, "reserve the header first")
        guard !isExpired(at: now) else { return .failure(.keysExpired) }
        let counter = sendCounters[Int(linkID)]
        guard counter <= WireFormat.counterLimit else { return .failure(.counterExhausted) }
        sendCounters[Int(linkID)] = counter + 1
        if counter > greatestSendCounter { greatestSendCounter = counter }
        let header = TransportHeader(receiverIndex: remoteIndex, linkID: linkID, counter: counter)
        // One access for the whole header (ByteBuffer.setFields: NIO's per-field checks cost more
        // than the null cipher itself).
        buffer.setFields(at: buffer.readerIndex, length: WireFormat.transportHeaderLength) { w in
            w.put(MessageType.transport.rawValue)
            w.put(WireFormat.version)
            w.put(linkID)
            w.put(UInt8(0))
            w.put(remoteIndex)
            w.put(counter)
        }
        if nullCipherReceiveKeyID != nil {
            SimulationCipher.seal(&buffer, keyID: sendKeyID, counter: counter)
        } else {
            TransportContainer.seal(&buffer, header: header, key: sendKey)
        }
        return .success(header)
    }

    /// Opens a packet whose header the caller parsed (and whose receiver index is `localIndex`).
    /// RFC 6479 order: the replay window is checked before the AEAD and updated only after it
    /// verified. On success the reader index is past the header and the readable bytes are
    /// `timestamp ‖ frames`.
    public func open(
        _ buffer: inout ByteBuffer,
        header: TransportHeader,
        now: Instant
    ) -> Result<OpenedPacket, SessionDropReason> {
        guard !isExpired(at: now) else { return .failure(.keysExpired) }
        let slot = Int(windowSlot[Int(header.linkID)])
        if slot > 0 {
            switch windows[slot - 1].check(header.counter) {
            case .fresh: break
            case .replayed: return .failure(.replayed)
            case .tooOld: return .failure(.counterTooOld)
            case .beyondLimit: return .failure(.counterBeyondLimit)
            }
        } else if header.counter > WireFormat.counterLimit {
            return .failure(.counterBeyondLimit)
        }
        let opened =
            if let keyID = nullCipherReceiveKeyID {
                SimulationCipher.open(&buffer, keyID: keyID, counter: header.counter)
            } else {
                TransportContainer.open(&buffer, header: header, key: receiveKey)
            }
        if case .failure(let error) = opened { return .failure(SessionDropReason(error)) }
        if slot > 0 {
            windows[slot - 1].commit(header.counter)
        } else {
            // First authenticated packet on this link under this key: one window, once.
            var window = ReplayWindow()
            window.commit(header.counter)
            windows.append(window)
            windowSlot[Int(header.linkID)] = UInt16(windows.count)
        }
        hasReceived = true
        buffer.moveReaderIndex(forwardBy: WireFormat.transportHeaderLength)
        return .success(
            OpenedPacket(linkID: header.linkID, counter: header.counter, receiverIndex: header.receiverIndex)
        )
    }
}

/// What the receiver learns from an authenticated transport packet besides its payload.
public struct OpenedPacket: Hashable, Sendable {
    /// The link the sender sent it on (authenticated).
    public var linkID: UInt8
    /// The sender's per-link counter: the link's sequence number for loss and reorder accounting.
    public var counter: UInt64
    /// The receiver index it carried: which of our sessions opened it.
    public var receiverIndex: UInt32
}
