import NIOCore

extension ByteBuffer {
    /// Stores big-endian fields at `index` (inside the readable bytes) in one access.
    ///
    /// NIO's `setInteger`/`writeInteger` cost a dynamic exclusivity check, a uniqueness check and
    /// a capacity check per field; the per-packet path writes a dozen fields, and under the
    /// simulator's null cipher that cost more than everything else in sealing. `body` gets a
    /// writer over exactly `length` bytes; writing past them is a programmer error.
    @inline(__always)
    mutating func setFields(at index: Int, length: Int, _ body: (inout FieldWriter) -> Void) {
        precondition(index >= readerIndex && index + length <= writerIndex, "fields lie inside the readable bytes")
        let offset = index - readerIndex
        withUnsafeMutableReadableBytes { raw in
            var writer = FieldWriter(base: raw.baseAddress! + offset, length: length)
            body(&writer)
        }
    }

    /// Appends `length` bytes of big-endian fields in one access (see `setFields`). The writer
    /// index moves first and the fields are set in place: NIO's `writeWithUnsafeMutableBytes`
    /// sliced its buffer pointer through an unspecialised `dropFirst` (~60 instructions a call).
    @inline(__always)
    mutating func writeFields(length: Int, _ body: (inout FieldWriter) -> Void) {
        if writableBytes < length { reserveCapacity(minimumWritableBytes: length) }
        let index = writerIndex
        moveWriterIndex(forwardBy: length)
        setFields(at: index, length: length, body)
    }
}

extension ByteBuffer {
    /// Reads big-endian fields from the readable bytes in one access (see `setFields`: NIO's
    /// `getInteger`/`readInteger` cost the same per-field checks). Nothing moves the reader index.
    @inline(__always)
    func withFieldReader<R>(_ body: (inout FieldReader) -> R) -> R {
        withUnsafeReadableBytes { raw in
            var reader = FieldReader(bytes: raw)
            return body(&reader)
        }
    }
}

/// Big-endian loads from the readable bytes a `ByteBuffer` lent out; `nil` past their end, as
/// `getInteger` (offsets are relative to the reader index).
struct FieldReader {
    let bytes: UnsafeRawBufferPointer
    /// Where `read` takes its next field.
    var offset = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    @inline(__always)
    func get<T: FixedWidthInteger>(at offset: Int, as: T.Type = T.self) -> T? {
        guard offset >= 0, offset + MemoryLayout<T>.size <= bytes.count else { return nil }
        return T(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inline(__always)
    mutating func read<T: FixedWidthInteger>(as: T.Type = T.self) -> T? {
        guard let value = get(at: offset, as: T.self) else { return nil }
        offset += MemoryLayout<T>.size
        return value
    }
}

/// Sequential big-endian stores into raw bytes a `ByteBuffer` lent out (`setFields`, `writeFields`).
struct FieldWriter {
    let base: UnsafeMutableRawPointer
    let length: Int
    private(set) var offset = 0

    init(base: UnsafeMutableRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    @inline(__always)
    mutating func put<T: FixedWidthInteger>(_ value: T) {
        precondition(offset + MemoryLayout<T>.size <= length, "field past the lent bytes")
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
    }

    /// `count` zero bytes.
    @inline(__always)
    mutating func zero(_ count: Int) {
        precondition(offset + count <= length, "field past the lent bytes")
        (base + offset).initializeMemory(as: UInt8.self, repeating: 0, count: count)
        offset += count
    }
}
