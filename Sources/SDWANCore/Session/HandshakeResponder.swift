import NIOCore

/// The hub's side of the handshake (docs/crypto.md "Roles"): takes an initiation datagram and
/// either answers it — a response datagram plus a new, unconfirmed `TransportSession` for a known
/// branch — or drops it under a counted reason. It holds the hub's static key, the configured
/// branches (static key → PSK, greatest timestamp) and nothing per session: the hub endpoint owns
/// the sessions (in `BranchSession`s) and the receiver-index table.
///
/// Cost order, cheapest refusal first: length/type/version/reserved, mac1 (keyed BLAKE2b, no DH),
/// mac2, duplicate copy of an initiation already answered (no DH); then the one X25519 (`es`)
/// that reveals the initiator's static key, refused if unknown before the second (`ss`) and
/// before any state; then the timestamp (WireGuard's greatest-timestamp rule).
public final class HandshakeResponder {
    private let localStatic: SecretBytes
    /// The hub's static public key (the one every edge is configured with).
    public let publicKey: PublicKey
    private let mac1Key: [UInt8]
    private let prologue: [UInt8]
    private var peers: [PublicKey: ResponderPeer] = [:]
    /// Ephemeral keys of recently answered initiations: the copies that arrive on the edge's other
    /// links are dropped without a DH. A fixed-size ring (FIFO eviction).
    private var recentEphemerals: Set<[UInt8]> = []
    private var recentRing: [[UInt8]] = []
    private var recentNext = 0
    static let recentCapacity = 4096
    /// Every initiation this responder dropped, by reason.
    public private(set) var drops = SessionDropCounters()

    public init(localStatic: borrowing PrivateKey, prologue: [UInt8] = HandshakeWire.prologue) {
        self.localStatic = localStatic.secret.duplicate()
        publicKey = localStatic.publicKey
        mac1Key = HandshakeWire.mac1Key(for: localStatic.publicKey)
        self.prologue = prologue
    }

    /// Adds (or replaces) a branch, authenticated by its static key and PSK (all-zero for none).
    public func addPeer(_ staticKey: PublicKey, presharedKey: borrowing PresharedKey) {
        peers[staticKey] = ResponderPeer(presharedKey: presharedKey.secret.duplicate())
    }

    public func removePeer(_ staticKey: PublicKey) { peers[staticKey] = nil }

    /// Handles an initiation that arrived on `linkID`. `isIndexInUse` tells whether a local index
    /// is taken in the hub's receiver-index table; the new session's index is drawn only after the
    /// initiation is authenticated. The response goes back on the same link.
    public func handleInitiation(
        _ datagram: ByteBuffer,
        linkID: UInt8,
        now: Instant,
        using random: inout some RandomSource,
        isIndexInUse: (UInt32) -> Bool
    ) -> Result<ResponderAccept, SessionDropReason> {
        let result = accept(datagram, linkID: linkID, now: now, using: &random, isIndexInUse: isIndexInUse)
        if case .failure(let reason) = result { drops.count(reason) }
        return result
    }

    private func accept(
        _ datagram: ByteBuffer,
        linkID: UInt8,
        now: Instant,
        using random: inout some RandomSource,
        isIndexInUse: (UInt32) -> Bool
    ) -> Result<ResponderAccept, SessionDropReason> {
        if let reason = HandshakeWire.checkClearParts(
            datagram,
            type: .handshakeInitiation,
            length: HandshakeWire.initiationLength,
            mac1Offset: HandshakeWire.initiationMac1Offset,
            mac1Key: mac1Key
        ) {
            return .failure(reason)
        }
        let at = datagram.readerIndex
        let remoteIndex: UInt32 = datagram.getInteger(at: at + HandshakeWire.senderIndexOffset)!
        let noiseBytes = datagram.getBytes(
            at: at + HandshakeWire.initiationNoiseOffset,
            length: HandshakeWire.initiationNoiseLength
        )!
        let ephemeral = Array(noiseBytes[0..<X25519.keyLength])
        guard !recentEphemerals.contains(ephemeral) else { return .failure(.duplicateInitiation) }
        var noise = NoiseHandshakeState(
            pattern: HandshakeWire.pattern,
            isInitiator: false,
            prologue: prologue,
            localStaticKey: localStatic,
            remoteStatic: nil
        )
        var peer: ResponderPeer?
        let payload: [UInt8]
        do {
            payload = try noise.readMessage(noiseBytes) { key in
                peer = peers[key]
                return peer != nil
            }
        } catch {
            return .failure(HandshakeWire.dropReason(error))
        }
        guard let peer, let peerKey = noise.remoteStatic else { return .failure(.unknownStaticKey) }
        guard WallTime(tai64n: payload) != nil else { return .failure(.invalidTimestamp) }
        // WireGuard §5.1: refuse an initiation whose TAI64N is not greater than the greatest seen from
        // this peer (big-endian labels compare as byte strings).
        if let greatest = peer.greatestTimestamp, !greatest.lexicographicallyPrecedes(payload) {
            return .failure(.staleTimestamp)
        }
        peer.greatestTimestamp = payload
        remember(ephemeral)
        peer.presharedKey.withUnsafeBytes { psk in noise.setPresharedKey(SecretBytes(copying: psk)) }
        guard let message = try? noise.writeMessage(payload: [], using: &random) else {
            preconditionFailure("writing the IKpsk2 response cannot fail after a valid initiation")
        }
        var localIndex = UInt32(truncatingIfNeeded: random.next())
        while isIndexInUse(localIndex) { localIndex = UInt32(truncatingIfNeeded: random.next()) }
        var bytes: [UInt8] = [MessageType.handshakeResponse.rawValue, WireFormat.version, linkID, 0]
        withUnsafeBytes(of: localIndex.bigEndian) { bytes += $0 }
        withUnsafeBytes(of: remoteIndex.bigEndian) { bytes += $0 }
        bytes += message
        bytes += [UInt8](repeating: 0, count: 2 * HandshakeWire.macLength)
        HandshakeWire.writeMacs(
            &bytes,
            mac1Offset: HandshakeWire.responseMac1Offset,
            key: HandshakeWire.mac1Key(for: peerKey)
        )
        let session = TransportSession(
            keys: noise.split(),
            isInitiator: false,
            localIndex: localIndex,
            remoteIndex: remoteIndex,
            createdAt: now
        )
        return .success(
            ResponderAccept(
                peer: peerKey,
                session: session,
                response: SessionTransmit(linkID: linkID, kind: .response, datagram: ByteBuffer(bytes: bytes))
            )
        )
    }

    private func remember(_ ephemeral: [UInt8]) {
        if recentRing.count < Self.recentCapacity {
            recentRing.append(ephemeral)
        } else {
            recentEphemerals.remove(recentRing[recentNext])
            recentRing[recentNext] = ephemeral
            recentNext = (recentNext + 1) % Self.recentCapacity
        }
        recentEphemerals.insert(ephemeral)
    }
}

/// An answered initiation: send `response`, hand `session` to the branch's `BranchSession`
/// (`install`) and map its `localIndex` in the hub's receiver-index table.
public struct ResponderAccept {
    /// The branch's static key (authenticated).
    public var peer: PublicKey
    public var session: TransportSession
    public var response: SessionTransmit
}

/// A configured branch as the responder knows it.
final class ResponderPeer {
    let presharedKey: SecretBytes
    /// The greatest TAI64N label accepted from this branch (memory only: a hub restart forgets it).
    var greatestTimestamp: [UInt8]?

    init(presharedKey: consuming SecretBytes) { self.presharedKey = presharedKey }
}
