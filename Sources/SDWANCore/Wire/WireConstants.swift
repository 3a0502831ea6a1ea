/// Normative wire constants: every byte offset and code point of the outer format lives here, and
/// docs/wire-format.md is their reference (section numbers below are that document's). Tunable
/// defaults (timers, windows, rates) live with the component that uses them, never here.
public enum WireFormat {
    /// §2: the version byte of every message; a receiver drops any other value.
    public static let version: UInt8 = 1

    /// §3: transport header = type(1) version(1) link id(1) flags(1) receiver index(4) counter(8).
    public static let transportHeaderLength = 16
    static let typeOffset = 0
    static let versionOffset = 1
    static let linkIDOffset = 2
    static let flagsOffset = 3
    static let receiverIndexOffset = 4
    static let counterOffset = 8

    /// §4: the sealed payload starts with the sender's timestamp, in microseconds modulo 2^32.
    public static let timestampLength = 4

    /// §5: every frame is type(1) length(2, big-endian) body(length).
    public static let frameHeaderLength = 3
    /// §5: frame types at or above this value may be skipped by a receiver that does not know them;
    /// an unknown type below it makes the packet malformed.
    public static let firstIgnorableFrameType: UInt8 = 0x80

    /// §3: ChaCha20-Poly1305 tag.
    public static let tagLength = 16

    /// Bytes a transport packet adds around its frames: header + timestamp + tag.
    public static let transportOverhead = transportHeaderLength + timestampLength + tagLength

    /// §6: the last per-link counter a sender may use under one key (WireGuard's REJECT_AFTER_MESSAGES,
    /// 2^64 − 2^13 − 1), leaving room for the replay window so a counter never wraps.
    public static let counterLimit: UInt64 = UInt64.max - (1 << 13)

    /// §3: outer overhead per address family, for the inner-MTU budget: IPv4 20 + UDP 8, IPv6 40 + UDP 8.
    public static let outerIPv4UDPLength = 28
    public static let outerIPv6UDPLength = 48
}

/// §2: the first byte of every message. Handshake messages have their own layouts (docs/crypto.md).
public enum MessageType: UInt8, Sendable, CaseIterable {
    case handshakeInitiation = 1
    case handshakeResponse = 2
    case cookieReply = 3
    case transport = 4
}

/// §5: the frame registry. Each issue that implements a frame owns its byte table in the doc.
public enum FrameType: UInt8, Sendable, CaseIterable {
    /// Zero or more bytes ignored by the receiver (padding to a size class).
    case padding = 0x00
    /// An inner packet (IP packet from TUN, or a UDP forward's payload).
    case data = 0x01
    /// STAMP-like probe request (RFC 8762).
    case probe = 0x02
    /// STAMP-like probe reply, the same size as its request.
    case probeReply = 0x03
    /// Per-link receiver statistics for the peer's forward direction.
    case receiverReport = 0x04
    /// XOR parity over a group of DATA frames (RFC 5109 style).
    case parity = 0x05
    /// Control messages: link announcements and the like.
    case control = 0x06
}
