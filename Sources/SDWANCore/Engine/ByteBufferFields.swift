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

    /// Appends `length` bytes of big-endian fields in one access (see `setFields`).
    @inline(__always)
    mutating func writeFields(length: Int, _ body: (inout FieldWriter) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
            var writer = FieldWriter(base: raw.baseAddress!, length: length)
            body(&writer)
            return length
        }
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
