import NIOCore

/// What the FEC codec needs from a protected DATA frame: the class whose sequence space numbers it
/// and its per-class FEC sequence number (docs/fec.md, "What a member carries").
///
/// The engine writes these 5 bytes into every DATA frame it protects (its DATA byte table says
/// where) and gives the decoder the member's bytes — everything of the DATA body the receiver
/// delivers, which is what parity protects and what recovery reproduces byte for byte.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 1 | class id |
/// | 1 | 4 | FEC sequence number (per class, +1 per protected frame, wraps modulo 2^32) |
public struct FECMemberTag: Hashable, Sendable {
    public var classID: UInt8
    public var sequence: UInt32

    /// Bytes on the wire.
    public static let length = 5

    public init(classID: UInt8, sequence: UInt32) {
        self.classID = classID
        self.sequence = sequence
    }

    /// Appends the tag to `buffer`.
    @inlinable
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(classID)
        buffer.writeInteger(sequence)
    }

    /// Reads a tag, or `nil` when fewer than 5 bytes remain (the caller drops the frame as truncated).
    @inlinable
    public static func read(from buffer: inout ByteBuffer) -> FECMemberTag? {
        guard buffer.readableBytes >= length,
            let classID = buffer.readInteger(as: UInt8.self),
            let sequence = buffer.readInteger(as: UInt32.self)
        else { return nil }
        return FECMemberTag(classID: classID, sequence: sequence)
    }
}

/// Serial-number order on the 32-bit FEC sequence space (RFC 1982): `a` is after `b` when the
/// signed 32-bit difference is positive. Right while live sequence numbers span under 2^31.
@inlinable
func sequenceDistance(_ a: UInt32, from b: UInt32) -> Int {
    Int(Int32(bitPattern: a &- b))
}
