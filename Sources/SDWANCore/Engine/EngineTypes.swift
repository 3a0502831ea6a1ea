import NIOCore

/// A datagram the I/O ring (or the simulator) must send.
public struct Transmit: Sendable {
    /// The link it leaves on (the edge: that link's socket; the hub: the listener the branch used).
    public var linkID: UInt8
    public var destination: UDPEndpoint
    public var datagram: ByteBuffer
    /// Outer DSCP for the datagram's IP header.
    public var dscp: UInt8

    public init(linkID: UInt8, destination: UDPEndpoint, datagram: ByteBuffer, dscp: UInt8) {
        self.linkID = linkID
        self.destination = destination
        self.datagram = datagram
        self.dscp = dscp
    }
}

/// An inner packet for the local side (LAN or data centre), with the class it travelled in.
public struct Delivery: Sendable {
    public var packet: ByteBuffer
    public var classIndex: Int
    /// Whether the packet was rebuilt from FEC parity rather than received.
    public var recovered: Bool
}

/// Something the shell logs, exports as a metric or shows in `status`.
public enum EngineEvent: Hashable, Sendable {
    /// A link's status changed (path monitor).
    case link(linkID: UInt8, LinkEvent)
    /// A class moved to other links (link ids, best first).
    case path(classIndex: Int, choice: PathChoice, at: Instant)
    /// The secure session changed (handshake, rekey, expiry).
    case session(SessionEvent)
    /// The peer announced its links (hub side).
    case linksAnnounced([LinkAnnouncement])
}

/// Why the engine itself dropped something (the session counts its own drops:
/// `SessionDropReason`). docs/path-selection.md lists them with the metric names.
public enum EngineDropReason: Int, Hashable, Sendable, CaseIterable {
    /// A frame inside an authenticated packet did not parse.
    case malformedFrame
    /// A DATA or PARITY frame named a class this end does not have.
    case unknownClass
    /// A second copy of a tunnel sequence (the duplicate of a duplicated class): the expected case.
    case duplicate
    /// Older than the dedupe window.
    case dedupeTooOld
    /// An inner packet larger than the inner MTU (answered with ICMP too big).
    case oversize
    /// No session keys yet, and the hold queue was full.
    case holdQueueFull
    /// Held longer than the class's hold time: no link came back.
    case holdExpired
    /// A link's shaper queue was full.
    case shaperQueueFull
    /// The packet's link has no known destination (the hub has not heard from it yet).
    case noDestination
    /// A monitor frame (probe, reply, report) was refused: malformed, forged or replayed.
    case monitorFrame
    /// A packet arrived for a link id this end does not know.
    case unknownLink
    /// The keys refused to seal (none yet, expired).
    case sealFailed
    /// Queued on a link a reload removed.
    case linkRemoved
}

/// Per-class counters (docs/simulator.md JSON `classes[]`, /metrics per class).
public struct ClassCounters: Hashable, Sendable {
    /// Inner packets offered for sending.
    public var sent: UInt64 = 0
    /// Datagrams put on links for this class (copies and parity included).
    public var wirePackets: UInt64 = 0
    /// Bytes on the wire for this class (transport overhead included, outer IP/UDP excluded).
    public var wireBytes: UInt64 = 0
    /// Inner payload bytes offered.
    public var payloadBytes: UInt64 = 0
    /// Inner packets delivered to the local side.
    public var delivered: UInt64 = 0
    /// Copies dropped by dedupe.
    public var duplicatesDropped: UInt64 = 0
    /// Losses FEC repaired: members rebuilt from parity and delivered whose original never
    /// arrived (a rebuild whose original lands later moves to `rebuiltBeforeOriginal`, so this
    /// can step back by one then).
    public var recoveredByFEC: UInt64 = 0
    /// Members rebuilt from parity before their original arrived (parity on a faster link): the
    /// rebuild was delivered early and the original then dropped as a duplicate (docs/fec.md, "In the
    /// engine").
    public var rebuiltBeforeOriginal: UInt64 = 0
    /// Packets that waited in the hold queue (no link up).
    public var held: UInt64 = 0
    /// Packets dropped from the hold queue (full or expired).
    public var holdDropped: UInt64 = 0
    /// Packets sent while no link met the SLA (least-bad link).
    public var sentOffSLA: UInt64 = 0
    /// Parity frames that found no link within the class's latency budget (not sent).
    public var parityUnplaced: UInt64 = 0

    public init() {}
}
