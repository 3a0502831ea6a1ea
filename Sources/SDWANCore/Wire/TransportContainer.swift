import NIOCore

/// Sealing and opening of transport packets (docs/wire-format.md §3–§4), in place in a `ByteBuffer`.
///
/// Layout: `header(16) ‖ ChaCha20-Poly1305(timestamp(4) ‖ frames) ‖ tag(16)`, where the whole header
/// is associated data and the nonce is derived from the header's link id and counter.
public enum TransportContainer {
    /// Seals a packet in place. On entry the buffer's readable bytes are the 16-byte header
    /// (written by `TransportHeader.write`) followed by the plaintext payload; on return the payload
    /// is ciphertext and the tag is appended.
    @inlinable
    public static func seal(_ buffer: inout ByteBuffer, header: TransportHeader, key: borrowing SecretBytes) {
        precondition(buffer.readableBytes >= WireFormat.transportHeaderLength, "seal needs a written header")
        buffer.writeRepeatingByte(0, count: WireFormat.tagLength)
        buffer.withUnsafeMutableReadableBytes { packet in
            let h = WireFormat.transportHeaderLength
            let tagStart = packet.count - WireFormat.tagLength
            header.withNonce { nonce in
                ChaChaPoly.seal(
                    UnsafeMutableRawBufferPointer(rebasing: packet[h..<tagStart]),
                    tag: UnsafeMutableRawBufferPointer(rebasing: packet[tagStart...]),
                    associatedData: UnsafeRawBufferPointer(rebasing: packet[0..<h]),
                    nonce: nonce,
                    key: key
                )
            }
        }
    }

    /// Verifies and decrypts a packet in place. On success the tag is trimmed and the readable
    /// bytes are `header ‖ timestamp ‖ frames` in the clear; on failure the payload bytes are
    /// zeroed (libsodium's behaviour) and the packet must be dropped.
    /// The caller has already parsed `header` from these bytes (it picks the key by receiver index).
    @inlinable
    public static func open(
        _ buffer: inout ByteBuffer,
        header: TransportHeader,
        key: borrowing SecretBytes
    ) -> Result<Void, ContainerError> {
        let minimum = WireFormat.transportHeaderLength + WireFormat.timestampLength + WireFormat.tagLength
        guard buffer.readableBytes >= minimum else { return .failure(.truncated) }
        let ok = buffer.withUnsafeMutableReadableBytes { packet in
            let h = WireFormat.transportHeaderLength
            let tagStart = packet.count - WireFormat.tagLength
            return header.withNonce { nonce in
                ChaChaPoly.open(
                    UnsafeMutableRawBufferPointer(rebasing: packet[h..<tagStart]),
                    tag: UnsafeRawBufferPointer(rebasing: packet[tagStart...]),
                    associatedData: UnsafeRawBufferPointer(rebasing: packet[0..<h]),
                    nonce: nonce,
                    key: key
                )
            }
        }
        guard ok else { return .failure(.authenticationFailed) }
        buffer.moveWriterIndex(to: buffer.writerIndex - WireFormat.tagLength)
        return .success(())
    }
}

/// §4: the sender timestamp in the sealed payload: the sender's monotonic clock in microseconds,
/// modulo 2^32 (wraps every 71.6 minutes). Only differences between two timestamps of one sender
/// are used (RFC 3550 §6.4.1 jitter, one-way delay variation), and a difference is read modulo 2^32
/// as a signed 32-bit value, valid while the true difference is under 35.8 minutes.
public struct WireTimestamp: Hashable, Sendable {
    public var microseconds: UInt32

    @inlinable
    public init(microseconds: UInt32) { self.microseconds = microseconds }

    /// The timestamp a sender writes at `now`.
    @inlinable
    public init(_ now: Instant) {
        microseconds = UInt32(truncatingIfNeeded: now.nanoseconds / 1_000)
    }

    /// `self − earlier` as a signed span, assuming the true difference is under 2^31 µs.
    @inlinable
    public func since(_ earlier: WireTimestamp) -> TimeSpan {
        .microseconds(Int64(Int32(bitPattern: microseconds &- earlier.microseconds)))
    }
}

extension WireTimestamp {
    /// Writes the 4-byte timestamp at the buffer's writer index.
    @inlinable
    public func write(to buffer: inout ByteBuffer) { buffer.writeInteger(microseconds) }

    /// Reads a timestamp, or `nil` when fewer than 4 bytes remain.
    @inlinable
    public static func read(from buffer: inout ByteBuffer) -> WireTimestamp? {
        buffer.readInteger(as: UInt32.self).map(WireTimestamp.init(microseconds:))
    }
}
