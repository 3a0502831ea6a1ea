import NIOCore

/// §3 of docs/wire-format.md: the clear header of a transport packet. All 16 bytes are AEAD
/// associated data, so a change to any of them fails authentication.
public struct TransportHeader: Hashable, Sendable {
    /// The receiver's session index: the receiver finds its keys by this, never by trial decryption.
    public var receiverIndex: UInt32
    /// The WAN link this packet was sent on (unique within a tunnel).
    public var linkID: UInt8
    /// The sender's counter for this link under the current key: a sequence number for loss and
    /// reordering measurement and half of the AEAD nonce.
    public var counter: UInt64

    public init(receiverIndex: UInt32, linkID: UInt8, counter: UInt64) {
        self.receiverIndex = receiverIndex
        self.linkID = linkID
        self.counter = counter
    }

    /// §3: nonce = 0x00 0x00 0x00 ‖ link id ‖ counter (big-endian, 8 bytes). Each direction of a
    /// session has its own key, each link its own counter that only grows and stops at
    /// `counterLimit`, and link ids are unique within a session: so (key, nonce) never repeats.
    @inlinable
    public func withNonce<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        // Three UInt32s: 12 contiguous bytes with no padding.
        var nonce: (UInt32, UInt32, UInt32) = (
            UInt32(linkID).bigEndian,
            UInt32(truncatingIfNeeded: counter >> 32).bigEndian,
            UInt32(truncatingIfNeeded: counter).bigEndian
        )
        return withUnsafeBytes(of: &nonce) { body($0) }
    }

    /// Writes the header at the buffer's writer index.
    @inlinable
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(MessageType.transport.rawValue)
        buffer.writeInteger(WireFormat.version)
        buffer.writeInteger(linkID)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(receiverIndex)
        buffer.writeInteger(counter)
    }

    /// Reads a header at the buffer's reader index without consuming it.
    public static func peek(_ buffer: ByteBuffer) -> Result<TransportHeader, ContainerError> {
        guard buffer.readableBytes >= WireFormat.transportHeaderLength else { return .failure(.truncated) }
        // One raw access for the whole header (every datagram received passes here; NIO's
        // getInteger checks bounds and exclusivity per field).
        return buffer.withFieldReader { r in
            guard r.get(at: WireFormat.typeOffset, as: UInt8.self) == MessageType.transport.rawValue else {
                return .failure(.wrongMessageType)
            }
            guard r.get(at: WireFormat.versionOffset, as: UInt8.self) == WireFormat.version else {
                return .failure(.unsupportedVersion)
            }
            guard r.get(at: WireFormat.flagsOffset, as: UInt8.self) == 0 else { return .failure(.reservedBitsSet) }
            return .success(
                TransportHeader(
                    receiverIndex: r.get(at: WireFormat.receiverIndexOffset)!,
                    linkID: r.get(at: WireFormat.linkIDOffset)!,
                    counter: r.get(at: WireFormat.counterOffset)!
                )
            )
        }
    }
}

/// Why a received datagram was dropped by the container layer; every case is counted by the
/// session that owns the drop (docs/wire-format.md §7).
public enum ContainerError: Error, Hashable, Sendable, CaseIterable {
    /// Shorter than its fixed parts (header, timestamp, tag, a frame's declared length).
    case truncated
    /// The type byte is not the one this parser handles.
    case wrongMessageType
    /// The version byte is not `WireFormat.version`.
    case unsupportedVersion
    /// A reserved header bit is set.
    case reservedBitsSet
    /// The AEAD tag did not verify: wrong key, forged, or any bit flipped anywhere.
    case authenticationFailed
    /// A frame type below `firstIgnorableFrameType` that this version does not define.
    case unknownFrameType
}
