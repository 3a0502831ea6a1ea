import NIOCore

/// §5 of docs/wire-format.md: typed frames inside the sealed payload, each `type(1) length(2) body`.
extension ByteBuffer {
    /// Appends a frame whose body is written by `body`; the length is filled in afterwards, so the
    /// body is written once, in place. The body must stay under 65 536 bytes.
    @inlinable
    public mutating func writeFrame(_ type: FrameType, body: (inout ByteBuffer) -> Void) {
        writeInteger(type.rawValue)
        let lengthAt = writerIndex
        writeInteger(UInt16(0))
        let start = writerIndex
        body(&self)
        let length = writerIndex - start
        precondition(length <= Int(UInt16.max), "frame body too long")
        setInteger(UInt16(length), at: lengthAt)
    }
}

/// A frame read from a payload: its type and a slice of the buffer holding its body (no copy).
public struct Frame: Sendable {
    public var type: FrameType
    public var body: ByteBuffer
}

/// Iterates the frames of an opened payload (after the timestamp). Unknown ignorable frames
/// (type ≥ 0x80) are skipped; an unknown mandatory frame or a length past the end is an error,
/// and the caller drops the whole packet.
public struct FrameReader: Sendable {
    /// The frames not read yet; `nil` once the last frame took the buffer itself.
    private var buffer: ByteBuffer?

    public init(_ frames: consuming ByteBuffer) { buffer = frames }

    /// Why `frames` would stop a `FrameReader` with a failure, or `nil` when every frame reads:
    /// the same walk as `next()`, over the raw bytes and without making a slice per frame (a
    /// receiver checks the whole packet before acting on any frame, wire-format.md §5).
    public static func firstError(in frames: ByteBuffer) -> ContainerError? {
        frames.withUnsafeReadableBytes { raw in
            var at = 0
            while at < raw.count {
                guard raw.count - at >= 3 else { return .truncated }
                let rawType = raw[at]
                let length = Int(raw[at + 1]) << 8 | Int(raw[at + 2])
                guard raw.count - at - 3 >= length else { return .truncated }
                if FrameType(rawValue: rawType) == nil && rawType < WireFormat.firstIgnorableFrameType {
                    return .unknownFrameType
                }
                at += 3 + length
            }
            return nil
        }
    }

    /// The next frame, `nil` at the end, or the reason the rest is malformed.
    /// The last frame's body is the reader's buffer itself (its reader index at the body), handed
    /// over rather than sliced: most packets carry one frame, and a slice was one more reference
    /// to the buffer (a retain and a release per packet). Read a body from its `readerIndex`.
    public mutating func next() -> Result<Frame, ContainerError>? {
        while let readable = buffer?.readableBytes, readable > 0 {
            // Type and length in one raw read (NIO's readInteger checks every field on its own).
            let fields: (type: UInt8, length: Int)? = buffer!.withUnsafeReadableBytes { raw in
                guard raw.count >= 3 else { return nil }
                let length = Int(raw[1]) << 8 | Int(raw[2])
                return raw.count - 3 >= length ? (raw[0], length) : nil
            }
            guard let (rawType, length) = fields else {
                buffer = nil
                return .failure(.truncated)
            }
            guard let type = FrameType(rawValue: rawType) else {
                if rawType < WireFormat.firstIgnorableFrameType {
                    buffer = nil
                    return .failure(.unknownFrameType)
                }
                buffer!.moveReaderIndex(forwardBy: 3 + length)
                continue
            }
            buffer!.moveReaderIndex(forwardBy: 3)
            if length == readable - 3 { return .success(Frame(type: type, body: buffer.take()!)) }
            return .success(Frame(type: type, body: buffer!.readSlice(length: length)!))
        }
        return nil
    }
}
