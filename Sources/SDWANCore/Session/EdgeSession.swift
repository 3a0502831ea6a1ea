import NIOCore

/// The branch edge's side of the secure session (docs/crypto.md "Lifecycle"): the initiator.
///
/// quinn-proto shape: inputs are `connect`, `handleDatagram`, `handleTimeout`,
/// `handleAllLinksSilent` and `setLinks`, each with `now`; outputs are drained after every input,
/// in this order: `pollTransmit()` until `nil` (handshake datagrams and key-confirming keepalives,
/// each with its link), `pollEvent()` until `nil`, then `nextDeadline()` for the timer. Data goes
/// through `seal` (current keys) and comes back from `handleDatagram` opened in place.
///
/// Keys: `current` (sending and receiving) and `previous` (receiving only, until reject-after), so
/// a rekey loses no packet in flight. An initiator's new keys are confirmed by the response itself,
/// so it sends on them at once; its first packets confirm them to the hub.
public final class EdgeSession {
    private let localStatic: SecretBytes
    private let presharedKey: SecretBytes
    /// Our static public key (the hub's configuration names us by it).
    public let localPublicKey: PublicKey
    /// The hub's static public key, known in advance (the IK pattern's pre-message).
    public let hubPublicKey: PublicKey
    private let hubMac1Key: [UInt8]
    private let ownMac1Key: [UInt8]
    private let prologue: [UInt8]

    private var links: [UInt8] = []
    private var current: TransportSession?
    private var previous: TransportSession?
    private var pending: PendingInitiation?
    private var attempt = 0
    private var retryAt: Instant?
    private var rekeyWantedAt: Instant?
    private var wantsSession = false
    private var expiryReported = false
    private var lastTimestamp: WallTime?
    private var transmits: [SessionTransmit] = []
    private var events: [SessionEvent] = []
    /// Every datagram this session dropped, by reason.
    public private(set) var drops = SessionDropCounters()

    /// An edge with its own static key, the hub's public key and the pair's PSK (all-zero when none).
    public init(
        localStatic: borrowing PrivateKey,
        hubPublicKey: PublicKey,
        presharedKey: borrowing PresharedKey,
        prologue: [UInt8] = HandshakeWire.prologue
    ) {
        self.localStatic = localStatic.secret.duplicate()
        self.presharedKey = presharedKey.secret.duplicate()
        localPublicKey = localStatic.publicKey
        self.hubPublicKey = hubPublicKey
        hubMac1Key = HandshakeWire.mac1Key(for: hubPublicKey)
        ownMac1Key = HandshakeWire.mac1Key(for: localStatic.publicKey)
        self.prologue = prologue
    }

    /// Whether a session with confirmed keys exists to send on.
    public var isEstablished: Bool { current != nil }

    /// Our index of the current session (the receiver index of packets the hub sends us).
    public var currentLocalIndex: UInt32? { current?.localIndex }

    /// `sendKeyID` of the current session (tests, diagnostics).
    public var currentKeyID: UInt64? { current?.sendKeyID }

    /// The links initiations go out on (every usable link at once). Order does not matter.
    public func setLinks(_ linkIDs: [UInt8]) {
        links = Array(Set(linkIDs)).sorted()
    }

    /// Starts the first handshake (and keeps one alive from then on).
    public func connect(now: Instant, wallTime: WallTime, using random: inout some RandomSource) {
        wantsSession = true
        if pending == nil && current == nil { startHandshake(now: now, wallTime: wallTime, using: &random) }
    }

    /// The engine's signal that no authenticated packet has arrived on any link for its silence
    /// threshold: the hub may have lost our session (restart), so re-handshake at once unless a
    /// handshake went out within the retry ceiling and is still waiting for its schedule.
    public func handleAllLinksSilent(now: Instant, wallTime: WallTime, using random: inout some RandomSource) {
        wantsSession = true
        if let pending, now - pending.sentAt < SessionTimers.retryMaximum { return }
        attempt = 0
        startHandshake(now: now, wallTime: wallTime, using: &random)
    }

    /// Runs the timers due at `now`: expiry (reject-after), handshake retries, rekey.
    public func handleTimeout(now: Instant, wallTime: WallTime, using random: inout some RandomSource) {
        if let old = previous, old.isExpired(at: now) {
            previous = nil
            events.append(.sessionRetired(localIndex: old.localIndex))
        }
        if let key = current, key.isExpired(at: now) {
            current = nil
            events.append(.sessionRetired(localIndex: key.localIndex))
            if !expiryReported {
                expiryReported = true
                events.append(.keysExpired)
            }
        }
        if pending != nil {
            if let retryAt, now >= retryAt { startHandshake(now: now, wallTime: wallTime, using: &random) }
        } else if let key = current {
            let rekeyDue =
                now >= key.createdAt + SessionTimers.rekeyAfterTime || rekeyWantedAt.map { now >= $0 } == true
            if rekeyDue { startHandshake(now: now, wallTime: wallTime, using: &random) }
        } else if wantsSession {
            startHandshake(now: now, wallTime: wallTime, using: &random)
        }
    }

    /// The earliest instant `handleTimeout` has work to do.
    public func nextDeadline() -> Instant? {
        // No array: the engine asks after every packet.
        var earliest: Instant?
        func consider(_ d: Instant) { if earliest == nil || d < earliest! { earliest = d } }
        if let previous { consider(previous.createdAt + SessionTimers.rejectAfterTime) }
        if let current { consider(current.createdAt + SessionTimers.rejectAfterTime) }
        if pending != nil {
            if let retryAt { consider(retryAt) }
        } else if let current {
            consider(current.createdAt + SessionTimers.rekeyAfterTime)
            if let rekeyWantedAt { consider(rekeyWantedAt) }
        }
        return earliest
    }

    public func pollTransmit() -> SessionTransmit? { transmits.isEmpty ? nil : transmits.removeFirst() }

    public func pollEvent() -> SessionEvent? { events.isEmpty ? nil : events.removeFirst() }

    /// Seals a packet under the current keys (see `TransportSession.seal` for the buffer contract).
    public func seal(_ buffer: inout ByteBuffer, linkID: UInt8, now: Instant) -> Result<TransportHeader, SealError> {
        guard current != nil else { return .failure(.noSession) }
        // Borrowed, not retained: sealing never replaces `current` (a retain and a release per
        // packet sent otherwise).
        let result = Unmanaged.passUnretained(current!)._withUnsafeGuaranteedRef {
            $0.seal(&buffer, linkID: linkID, now: now)
        }
        if case .success(let header) = result, header.counter >= SessionTimers.rekeyAfterMessages - 1,
            pending == nil, rekeyWantedAt == nil
        {
            rekeyWantedAt = now
        }
        return result
    }

    /// A datagram from the hub on `linkID`. A transport packet is opened in place (readable bytes
    /// then `timestamp ‖ frames`); a handshake response completes the pending handshake. Every
    /// refusal is counted in `drops` and returned.
    public func handleDatagram(_ buffer: inout ByteBuffer, linkID: UInt8, now: Instant) -> EdgeReceive {
        let outcome: EdgeReceive
        switch buffer.getInteger(at: buffer.readerIndex, as: UInt8.self).flatMap(MessageType.init(rawValue:)) {
        case .transport: outcome = openTransport(&buffer, now: now)
        case .handshakeResponse: outcome = handleResponse(buffer, linkID: linkID, now: now)
        case .handshakeInitiation, .cookieReply: outcome = .dropped(.wrongMessageType)
        case .none: outcome = .dropped(buffer.readableBytes == 0 ? .truncated : .wrongMessageType)
        }
        if case .dropped(let reason) = outcome { drops.count(reason) }
        return outcome
    }

    private func openTransport(_ buffer: inout ByteBuffer, now: Instant) -> EdgeReceive {
        let header: TransportHeader
        switch TransportHeader.peek(buffer) {
        case .success(let h): header = h
        case .failure(let error): return .dropped(SessionDropReason(error))
        }
        // The session borrowed, not retained (opening never replaces `current` or `previous`).
        let session: Unmanaged<TransportSession>
        if current?.localIndex == header.receiverIndex {
            session = Unmanaged.passUnretained(current!)
        } else if previous?.localIndex == header.receiverIndex {
            session = Unmanaged.passUnretained(previous!)
        } else {
            return .dropped(.unknownReceiverIndex)
        }
        switch session._withUnsafeGuaranteedRef({ $0.open(&buffer, header: header, now: now) }) {
        case .success(let packet): return .packet(packet)
        case .failure(let reason): return .dropped(reason)
        }
    }

    private func handleResponse(_ buffer: ByteBuffer, linkID: UInt8, now: Instant) -> EdgeReceive {
        if let reason = HandshakeWire.checkClearParts(
            buffer,
            type: .handshakeResponse,
            length: HandshakeWire.responseLength,
            mac1Offset: HandshakeWire.responseMac1Offset,
            mac1Key: ownMac1Key
        ) {
            return .dropped(reason)
        }
        let at = buffer.readerIndex
        let receiverIndex: UInt32 = buffer.getInteger(at: at + HandshakeWire.responseReceiverIndexOffset)!
        guard let attempt = pending, attempt.localIndex == receiverIndex else { return .dropped(.unknownReceiverIndex) }
        let senderIndex: UInt32 = buffer.getInteger(at: at + HandshakeWire.senderIndexOffset)!
        let noiseBytes = buffer.getBytes(
            at: at + HandshakeWire.responseNoiseOffset,
            length: HandshakeWire.responseNoiseLength
        )!
        // Read into a copy: a forged response (mac1 needs only our public key) must not spend the
        // real handshake state.
        var trial = attempt.noise.duplicate()
        do {
            _ = try trial.readMessage(noiseBytes)
        } catch {
            return .dropped(HandshakeWire.dropReason(error))
        }
        let session = TransportSession(
            keys: trial.split(),
            isInitiator: true,
            localIndex: receiverIndex,
            remoteIndex: senderIndex,
            createdAt: now
        )
        let wasEstablished = current != nil
        if let old = previous { events.append(.sessionRetired(localIndex: old.localIndex)) }
        previous = current
        current = session
        pending = nil
        retryAt = nil
        rekeyWantedAt = nil
        self.attempt = 0
        expiryReported = false
        events.append(
            wasEstablished ? .rekeyed(localIndex: receiverIndex) : .handshakeCompleted(localIndex: receiverIndex)
        )
        // Key confirmation: the hub keeps sending on its previous keys until a packet under the
        // new ones arrives, so one goes out at once on every link (empty: timestamp, no frames).
        for link in links.isEmpty ? [linkID] : links {
            var keepalive = ByteBuffer()
            keepalive.reserveCapacity(WireFormat.transportOverhead)
            keepalive.writeRepeatingByte(0, count: WireFormat.transportHeaderLength)
            WireTimestamp(now).write(to: &keepalive)
            if case .success = session.seal(&keepalive, linkID: link, now: now) {
                transmits.append(SessionTransmit(linkID: link, kind: .keepalive, datagram: keepalive))
            }
        }
        return .handshakeCompleted
    }

    /// Builds a new initiation (fresh ephemeral, index and timestamp) and queues one copy per link.
    private func startHandshake(now: Instant, wallTime: WallTime, using random: inout some RandomSource) {
        var localIndex = UInt32(truncatingIfNeeded: random.next())
        while localIndex == current?.localIndex || localIndex == previous?.localIndex {
            localIndex = UInt32(truncatingIfNeeded: random.next())
        }
        // The timestamp only has to grow (the hub keeps the greatest): never repeat or go back
        // within this process, even if the wall clock steps backwards.
        var stamp = wallTime
        if let last = lastTimestamp, !(last < stamp) {
            stamp =
                last.nanoseconds == 999_999_999
                ? WallTime(secondsSinceEpoch: last.secondsSinceEpoch + 1, nanoseconds: 0)
                : WallTime(secondsSinceEpoch: last.secondsSinceEpoch, nanoseconds: last.nanoseconds + 1)
        }
        lastTimestamp = stamp
        var noise = NoiseHandshakeState(
            pattern: HandshakeWire.pattern,
            isInitiator: true,
            prologue: prologue,
            localStaticKey: localStatic,
            remoteStatic: hubPublicKey
        )
        noise.setPresharedKey(presharedKey)
        guard let message = try? noise.writeMessage(payload: stamp.tai64n, using: &random) else {
            preconditionFailure("writing the first IKpsk2 message cannot fail with valid keys")
        }
        precondition(message.count == HandshakeWire.initiationNoiseLength)
        for link in links {
            var bytes: [UInt8] = [MessageType.handshakeInitiation.rawValue, WireFormat.version, link, 0]
            withUnsafeBytes(of: localIndex.bigEndian) { bytes += $0 }
            bytes += message
            bytes += [UInt8](repeating: 0, count: 2 * HandshakeWire.macLength)
            HandshakeWire.writeMacs(&bytes, mac1Offset: HandshakeWire.initiationMac1Offset, key: hubMac1Key)
            transmits.append(SessionTransmit(linkID: link, kind: .initiation, datagram: ByteBuffer(bytes: bytes)))
        }
        pending = PendingInitiation(noise: noise, localIndex: localIndex, sentAt: now)
        // Backoff: retryInitial · 2^attempt, capped at retryMaximum, plus uniform jitter.
        var delay = SessionTimers.retryMaximum
        if attempt < 8 { delay = min(SessionTimers.retryInitial * (1 << Int64(attempt)), SessionTimers.retryMaximum) }
        let jitter = TimeSpan(nanoseconds: Int64.random(in: 0...SessionTimers.retryJitter.nanoseconds, using: &random))
        retryAt = now + delay + jitter
        attempt += 1
        rekeyWantedAt = nil
    }
}

/// What `EdgeSession.handleDatagram` did with a datagram.
public enum EdgeReceive: Hashable, Sendable {
    /// An authenticated transport packet, opened in place.
    case packet(OpenedPacket)
    /// A handshake response completed a handshake (drain `pollTransmit`/`pollEvent`).
    case handshakeCompleted
    /// Refused and counted.
    case dropped(SessionDropReason)
}

/// An initiation waiting for its response.
final class PendingInitiation {
    let noise: NoiseHandshakeState
    let localIndex: UInt32
    let sentAt: Instant

    init(noise: consuming NoiseHandshakeState, localIndex: UInt32, sentAt: Instant) {
        self.noise = noise
        self.localIndex = localIndex
        self.sentAt = sentAt
    }
}
