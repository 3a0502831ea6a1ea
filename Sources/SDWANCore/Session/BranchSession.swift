import NIOCore

/// The hub's keys for one branch (docs/crypto.md "Key confirmation"): `current` (sending and
/// receiving), `previous` (receiving only, until reject-after) and `next` (installed by an answered
/// initiation, unconfirmed). The responder keeps sending on `current` until the first packet under
/// `next` authenticates, which proves the edge has the keys; then `next` becomes current.
///
/// The hub endpoint owns one per branch and a table receiver index → branch; it maps each
/// installed session's `localIndex` and unmaps indices reported by `.sessionRetired` events.
/// Drain order after each input: `pollEvent()` until `nil`, then `nextDeadline()`.
public final class BranchSession {
    /// The branch's static key.
    public let peer: PublicKey
    private var current: TransportSession?
    private var previous: TransportSession?
    private var next: TransportSession?
    private var events: [SessionEvent] = []
    private var expiryReported = false

    public init(peer: PublicKey) { self.peer = peer }

    /// Whether there are confirmed keys to send on.
    public var isEstablished: Bool { current != nil }

    /// `sendKeyID` of the current session (tests, diagnostics).
    public var currentKeyID: UInt64? { current?.sendKeyID }

    /// The local indices of the live sessions (current, previous, next).
    public var localIndices: [UInt32] { [current, previous, next].compactMap { $0?.localIndex } }

    /// Installs the session of an answered initiation as `next`; an unconfirmed `next` it replaces
    /// (its response was lost, or the edge retried) is retired.
    public func install(_ session: TransportSession) {
        if let old = next { events.append(.sessionRetired(localIndex: old.localIndex)) }
        next = session
    }

    /// Opens a transport packet whose receiver index the hub mapped to this branch.
    public func open(
        _ buffer: inout ByteBuffer,
        header: TransportHeader,
        now: Instant
    ) -> Result<OpenedPacket, SessionDropReason> {
        // Borrowed, not retained: opening under current keys never replaces them (a retain and a
        // release per packet received otherwise).
        if current?.localIndex == header.receiverIndex {
            return Unmanaged.passUnretained(current!)._withUnsafeGuaranteedRef {
                $0.open(&buffer, header: header, now: now)
            }
        }
        if let previous, previous.localIndex == header.receiverIndex {
            return previous.open(&buffer, header: header, now: now)
        }
        guard let candidate = next, candidate.localIndex == header.receiverIndex else {
            return .failure(.unknownReceiverIndex)
        }
        let result = candidate.open(&buffer, header: header, now: now)
        if case .success = result {
            // Key confirmation: the edge has the new keys.
            let wasEstablished = current != nil
            if let old = previous { events.append(.sessionRetired(localIndex: old.localIndex)) }
            previous = current
            current = candidate
            next = nil
            expiryReported = false
            events.append(
                wasEstablished
                    ? .rekeyed(localIndex: candidate.localIndex) : .handshakeCompleted(localIndex: candidate.localIndex)
            )
        }
        return result
    }

    /// Seals under the current (confirmed) keys; see `TransportSession.seal`.
    public func seal(_ buffer: inout ByteBuffer, linkID: UInt8, now: Instant) -> Result<TransportHeader, SealError> {
        guard current != nil else { return .failure(.noSession) }
        // Borrowed (see `open`): sealing never replaces the keys.
        return Unmanaged.passUnretained(current!)._withUnsafeGuaranteedRef {
            $0.seal(&buffer, linkID: linkID, now: now)
        }
    }

    /// Retires sessions past reject-after.
    public func handleTimeout(now: Instant) {
        if let s = previous, s.isExpired(at: now) {
            previous = nil
            events.append(.sessionRetired(localIndex: s.localIndex))
        }
        if let s = next, s.isExpired(at: now) {
            next = nil
            events.append(.sessionRetired(localIndex: s.localIndex))
        }
        if let s = current, s.isExpired(at: now) {
            current = nil
            events.append(.sessionRetired(localIndex: s.localIndex))
            if !expiryReported {
                expiryReported = true
                events.append(.keysExpired)
            }
        }
    }

    public func nextDeadline() -> Instant? {
        // No arrays: the hub's engine asks after every packet.
        var oldest = current?.createdAt
        if let created = previous?.createdAt, oldest == nil || created < oldest! { oldest = created }
        if let created = next?.createdAt, oldest == nil || created < oldest! { oldest = created }
        return oldest.map { $0 + SessionTimers.rejectAfterTime }
    }

    public func pollEvent() -> SessionEvent? { events.isEmpty ? nil : events.removeFirst() }
}
