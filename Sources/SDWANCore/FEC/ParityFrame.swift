import NIOCore

/// The PARITY frame (type 0x05, docs/wire-format.md §5.1): XOR parity over one FEC group, after
/// RFC 5109 §7.3 (length recovery) and §10.1 (parity = XOR of the members zero-padded to the
/// longest), with SMPTE ST 2022-1 column interleaving (members `stride` sequence numbers apart).
///
/// Body layout (big-endian):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 1 | class id: which per-class FEC sequence space the members are numbered in |
/// | 1 | 1 | member count n, 1…`FECLimits.maxGroupSize` |
/// | 2 | 2 | stride s ≥ 1 |
/// | 4 | 4 | base sequence b: the group id; members are b, b + s, …, b + (n − 1)·s (mod 2^32) |
/// | 8 | 2 | length recovery: XOR of the members' lengths |
/// | 10 | L | parity payload, L = the longest member's length |
///
/// The frame is sealed inside a transport packet like any other frame, so every field is
/// authenticated; the checks in `parse` are for our own bugs and a misbehaving peer.
public struct ParityFrame: Sendable, Equatable {
    /// The class whose FEC sequence space numbers the members.
    public var classID: UInt8
    /// The number of members n.
    public var count: Int
    /// The spacing s between member sequence numbers (the interleave depth).
    public var stride: Int
    /// The first member's sequence number; with `classID` it identifies the group.
    public var baseSequence: UInt32
    /// XOR of the members' lengths (RFC 5109 §7.3 "length recovery").
    public var lengthRecovery: UInt16
    /// XOR of the members, each zero-padded to the longest; its length is the longest member's.
    public var payload: ByteBuffer

    /// Bytes of the body before the parity payload.
    public static let fieldsLength = 10

    public init(
        classID: UInt8,
        count: Int,
        stride: Int,
        baseSequence: UInt32,
        lengthRecovery: UInt16,
        payload: ByteBuffer
    ) {
        self.classID = classID
        self.count = count
        self.stride = stride
        self.baseSequence = baseSequence
        self.lengthRecovery = lengthRecovery
        self.payload = payload
    }

    /// The sequence number of member `index` (0 ≤ index < count).
    @inlinable
    public func memberSequence(_ index: Int) -> UInt32 {
        baseSequence &+ UInt32(truncatingIfNeeded: index &* stride)
    }

    /// The index of `sequence` in this group, or `nil` when it is not a member.
    @inlinable
    public func memberIndex(of sequence: UInt32) -> Int? {
        let offset = Int(sequence &- baseSequence)
        guard offset % stride == 0 else { return nil }
        let index = offset / stride
        return index < count ? index : nil
    }

    /// The whole frame's length on the wire (frame header + fields + payload) for a group whose
    /// longest member is `longestMember` bytes: the figure the MTU budget must allow.
    @inlinable
    public static func frameLength(longestMember: Int) -> Int {
        WireFormat.frameHeaderLength + fieldsLength + longestMember
    }

    /// Reads a PARITY body (the frame's body slice; no copy). Malformed input is refused with its
    /// reason, never trapped on.
    public static func parse(_ body: ByteBuffer) -> Result<ParityFrame, ParityDropReason> {
        var body = body
        guard let classID = body.readInteger(as: UInt8.self),
            let count = body.readInteger(as: UInt8.self),
            let stride = body.readInteger(as: UInt16.self),
            let base = body.readInteger(as: UInt32.self),
            let lengths = body.readInteger(as: UInt16.self)
        else { return .failure(.truncated) }
        guard count > 0 else { return .failure(.emptyGroup) }
        guard Int(count) <= FECLimits.maxGroupSize else { return .failure(.groupTooLarge) }
        guard stride > 0 else { return .failure(.zeroStride) }
        // One member: it is the longest, so its length is the payload's.
        guard count > 1 || Int(lengths) == body.readableBytes else { return .failure(.inconsistentLength) }
        return .success(
            ParityFrame(
                classID: classID,
                count: Int(count),
                stride: Int(stride),
                baseSequence: base,
                lengthRecovery: lengths,
                payload: body
            )
        )
    }

    /// Appends a whole PARITY frame (type, length, fields, payload) to `buffer`.
    @inlinable
    public static func write(
        classID: UInt8,
        count: Int,
        stride: Int,
        baseSequence: UInt32,
        lengthRecovery: UInt16,
        payload: UnsafeRawBufferPointer,
        to buffer: inout ByteBuffer
    ) {
        precondition(count >= 1 && count <= FECLimits.maxGroupSize, "group size out of range")
        precondition(stride >= 1 && stride <= Int(UInt16.max), "stride out of range")
        buffer.writeFrame(.parity) { body in
            body.writeInteger(classID)
            body.writeInteger(UInt8(count))
            body.writeInteger(UInt16(stride))
            body.writeInteger(baseSequence)
            body.writeInteger(lengthRecovery)
            body.writeBytes(payload)
        }
    }

    /// Appends this frame to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        payload.withUnsafeReadableBytes { bytes in
            Self.write(
                classID: classID,
                count: count,
                stride: stride,
                baseSequence: baseSequence,
                lengthRecovery: lengthRecovery,
                payload: bytes,
                to: &buffer
            )
        }
    }
}

/// Why a PARITY frame was refused; the decoder counts each (docs/fec.md, "Counters").
public enum ParityDropReason: Int, Error, Hashable, Sendable, CaseIterable {
    /// Shorter than the 10 bytes of fields.
    case truncated
    /// Member count 0.
    case emptyGroup
    /// Member count above `FECLimits.maxGroupSize`.
    case groupTooLarge
    /// Stride 0.
    case zeroStride
    /// A one-member group whose length field differs from its payload's length.
    case inconsistentLength
    /// The class id names no FEC class of this tunnel (counted by the engine, which routes by class).
    case unknownClass
}

/// Normative limits of the FEC wire format (docs/fec.md); tunable defaults live in the encoder's
/// and controller's configurations.
public enum FECLimits {
    /// The largest group: the member count is one byte on the wire, and a group wider than this
    /// buys little (overhead 1/k against a residual loss growing with k).
    public static let maxGroupSize = 32
}
