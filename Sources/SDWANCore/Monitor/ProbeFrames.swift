import NIOCore

/// PROBE (0x02) and PROBE_REPLY (0x03) bodies (docs/wire-format.md §5.1): STAMP-like, RFC 8762.
///
/// Request and reply have the same 32-byte layout, so a reflector never amplifies (RFC 8762 §4.2:
/// the session-sender packet is padded to the size of the reflected one). In a request the
/// reflector fields are zero; the reflector fills them in and sends the same size back.
public struct ProbeFrame: Hashable, Sendable {
    /// The sender's probe sequence number for this link (RFC 1982 serial arithmetic).
    public var sequence: UInt32
    /// T1: the sender's monotonic clock when it sent the probe, in nanoseconds. Only the sender
    /// reads it back; the reflector copies it.
    public var senderTime: UInt64
    /// T2: the reflector's monotonic clock when the probe arrived, in nanoseconds (0 in a request).
    public var reflectorReceiveTime: UInt64
    /// T3: the reflector's monotonic clock when it sent the reply, in nanoseconds (0 in a request).
    public var reflectorSendTime: UInt64

    /// Body length of both PROBE and PROBE_REPLY.
    public static let bodyLength = 32

    public init(sequence: UInt32, senderTime: UInt64, reflectorReceiveTime: UInt64 = 0, reflectorSendTime: UInt64 = 0) {
        self.sequence = sequence
        self.senderTime = senderTime
        self.reflectorReceiveTime = reflectorReceiveTime
        self.reflectorSendTime = reflectorSendTime
    }

    /// Appends the frame (header and body) to `buffer`, in one bounds check (§5 header written
    /// directly: type, length, body).
    public func write(_ type: FrameType, to buffer: inout ByteBuffer) {
        precondition(type == .probe || type == .probeReply, "a probe is written as PROBE or PROBE_REPLY")
        buffer.writeMultipleIntegers(
            type.rawValue,
            UInt16(Self.bodyLength),
            sequence,
            UInt32(0),
            senderTime,
            reflectorReceiveTime,
            reflectorSendTime
        )
    }

    /// Parses a body; `nil` when it is not exactly `bodyLength` bytes or the reserved word is not 0.
    /// The caller checks the request/reply rules (`MonitorDropReason`).
    public static func parse(_ body: ByteBuffer) -> ProbeFrame? {
        guard body.readableBytes == bodyLength else { return nil }
        var body = body
        guard
            let (sequence, reserved, t1, t2, t3) = body.readMultipleIntegers(
                as: (UInt32, UInt32, UInt64, UInt64, UInt64).self
            ),
            reserved == 0
        else { return nil }
        return ProbeFrame(sequence: sequence, senderTime: t1, reflectorReceiveTime: t2, reflectorSendTime: t3)
    }
}

/// RECEIVER_REPORT (0x04) body (docs/wire-format.md §5.2): what the receiver saw on one link,
/// so the sender can judge its forward direction (RFC 3550 §6.4.1 receiver report, reduced).
public struct ReceiverReportFrame: Hashable, Sendable {
    /// The reporter's report sequence number for this link; a receiver accepts only increasing ones.
    public var sequence: UInt32
    /// The highest per-link counter the reporter has received from us.
    public var highestCounter: UInt64
    /// Our own sealed timestamp (§4) of the packet that carried `highestCounter`, echoed back.
    public var echoedTimestamp: WireTimestamp
    /// Microseconds between the reporter receiving that packet and sending this report (RTCP's
    /// DLSR): RTT = now − echoed timestamp − hold time.
    public var holdMicroseconds: UInt32
    /// Packets received on this link (cumulative, duplicates and late ones excluded).
    public var received: UInt64
    /// Packets declared lost on this link (cumulative; a packet not arrived within Tmax, RFC 7680).
    public var lost: UInt64
    /// RFC 3550 §6.4.1 interarrival jitter of our packets, microseconds.
    public var jitterMicroseconds: UInt32
    /// RFC 5481 PDV 99th percentile of our packets over the reporter's last epoch, microseconds.
    public var pdvP99Microseconds: UInt32

    /// Body length.
    public static let bodyLength = 44

    public init(
        sequence: UInt32,
        highestCounter: UInt64,
        echoedTimestamp: WireTimestamp,
        holdMicroseconds: UInt32,
        received: UInt64,
        lost: UInt64,
        jitterMicroseconds: UInt32,
        pdvP99Microseconds: UInt32
    ) {
        self.sequence = sequence
        self.highestCounter = highestCounter
        self.echoedTimestamp = echoedTimestamp
        self.holdMicroseconds = holdMicroseconds
        self.received = received
        self.lost = lost
        self.jitterMicroseconds = jitterMicroseconds
        self.pdvP99Microseconds = pdvP99Microseconds
    }

    /// Appends the frame (header and body) to `buffer`, in one bounds check.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(
            FrameType.receiverReport.rawValue,
            UInt16(Self.bodyLength),
            sequence,
            highestCounter,
            echoedTimestamp.microseconds,
            holdMicroseconds,
            received,
            lost,
            jitterMicroseconds,
            pdvP99Microseconds
        )
    }

    /// Parses a body; `nil` when it is not exactly `bodyLength` bytes.
    public static func parse(_ body: ByteBuffer) -> ReceiverReportFrame? {
        guard body.readableBytes == bodyLength else { return nil }
        var body = body
        guard
            let (sequence, highest, echo, hold, received, lost, jitter, pdv) = body.readMultipleIntegers(
                as: (UInt32, UInt64, UInt32, UInt32, UInt64, UInt64, UInt32, UInt32).self
            )
        else { return nil }
        return ReceiverReportFrame(
            sequence: sequence,
            highestCounter: highest,
            echoedTimestamp: WireTimestamp(microseconds: echo),
            holdMicroseconds: hold,
            received: received,
            lost: lost,
            jitterMicroseconds: jitter,
            pdvP99Microseconds: pdv
        )
    }
}

/// Why the path monitor refused a probe, reply or report. Each is counted and never trusted.
public enum MonitorDropReason: Error, Hashable, Sendable, CaseIterable {
    /// The body has the wrong length or a reserved field is not zero.
    case malformed
    /// A PROBE whose reflector fields are not zero.
    case probeWithReflectorTimes
    /// A PROBE whose sequence is not newer than the last accepted one (replayed or stale).
    case replayedProbe
    /// A PROBE_REPLY matching no outstanding probe (never sent, already answered, or expired):
    /// forged or replayed.
    case unmatchedReply
    /// Timestamps that cannot be true: T3 before T2, the reflector's hold time longer than the
    /// round trip, an echoed timestamp from the future.
    case implausibleTimes
    /// A RECEIVER_REPORT whose sequence is not newer than the last accepted one.
    case replayedReport
    /// A RECEIVER_REPORT acknowledging a counter we never sent, or counts that shrink or exceed
    /// what was sent.
    case inconsistentReport
}

/// RFC 1982 serial-number comparison for 32-bit sequence numbers: `a` is newer than `b`.
@inlinable
func isNewer(_ a: UInt32, than b: UInt32) -> Bool {
    Int32(bitPattern: a &- b) > 0
}
