import NIOCore

/// The DATA frame (docs/wire-format.md §5, type 0x01): one inner packet with what the receiver
/// needs to dedupe, recover and reorder it.
///
/// ```
/// offset size field
/// 0      1    class id: index into the class table both ends share (from config)
/// 1      1    flags: bit 0 = FEC sequence present; others 0
/// [2     4    FEC sequence: per class, numbers the members of FEC groups]     if flags bit 0
/// ---- the FEC member: the bytes parity protects and recovery rebuilds ----
/// +0     1    member flags: bit 0 = flow sequence present; others 0
/// +1     8    tunnel sequence: per tunnel and direction, across links and rekeys (dedupe)
/// [+9    2+4  flow id, flow sequence (striping and per-flow reorder)]         if member bit 0
/// ..     n    the inner packet
/// ```
///
/// The FEC sequence stays outside the member (parity identifies members by it), so a member is
/// one contiguous run of bytes on both ends — no copy, no zeroing — and a recovered member carries
/// its tunnel sequence into the same dedupe as any received one.
public struct DataFrameHeader: Hashable, Sendable {
    static let flagFEC: UInt8 = 0x01
    static let memberFlagFlow: UInt8 = 0x01

    public var classID: UInt8
    public var fecSequence: UInt32?
    public var member: DataMemberHeader

    public init(classID: UInt8, fecSequence: UInt32? = nil, member: DataMemberHeader) {
        self.classID = classID
        self.fecSequence = fecSequence
        self.member = member
    }

    /// Bytes before the member: class id, flags and the FEC sequence when present.
    public var memberOffset: Int { fecSequence == nil ? 2 : 6 }

    /// Bytes this header occupies in the frame body.
    public var encodedLength: Int { memberOffset + member.encodedLength }

    /// The largest header: what the inner-MTU budget reserves.
    public static let maximumLength = 6 + DataMemberHeader.maximumLength

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(classID)
        buffer.writeInteger(fecSequence == nil ? 0 : Self.flagFEC)
        if let fecSequence { buffer.writeInteger(fecSequence) }
        member.write(to: &buffer)
    }

    /// Writes the header at `index` (in place, for a packet built in its own buffer's headroom);
    /// returns the bytes written.
    @discardableResult
    public func set(into buffer: inout ByteBuffer, at index: Int) -> Int {
        let length = encodedLength
        buffer.setFields(at: index, length: length) { w in
            w.put(classID)
            w.put(fecSequence == nil ? 0 : Self.flagFEC)
            if let fecSequence { w.put(fecSequence) }
            w.put(member.flow == nil ? 0 : Self.memberFlagFlow)
            w.put(member.tunnelSequence)
            if let flow = member.flow {
                w.put(flow.id)
                w.put(flow.sequence)
            }
        }
        return length
    }

    /// Reads the header from a DATA frame body, leaving the reader index at the inner packet.
    /// One raw access (`withFieldReader`); on failure the reader index is left where it was.
    public static func read(from body: inout ByteBuffer) -> Result<DataFrameHeader, ContainerError> {
        let (result, consumed) = body.withFieldReader { r -> (Result<DataFrameHeader, ContainerError>, Int) in
            guard let classID = r.read(as: UInt8.self), let flags = r.read(as: UInt8.self) else {
                return (.failure(.truncated), 0)
            }
            guard flags & ~flagFEC == 0 else { return (.failure(.reservedBitsSet), 0) }
            var fec: UInt32?
            if flags & flagFEC != 0 {
                guard let sequence = r.read(as: UInt32.self) else { return (.failure(.truncated), 0) }
                fec = sequence
            }
            let member = DataMemberHeader.read(&r)
            return (member.map { DataFrameHeader(classID: classID, fecSequence: fec, member: $0) }, r.offset)
        }
        if case .success = result { body.moveReaderIndex(forwardBy: consumed) }
        return result
    }
}

/// The start of a DATA frame's FEC member: member flags, tunnel sequence, optional flow sequence.
public struct DataMemberHeader: Hashable, Sendable {
    public struct Flow: Hashable, Sendable {
        public var id: UInt16
        public var sequence: UInt32

        public init(id: UInt16, sequence: UInt32) {
            self.id = id
            self.sequence = sequence
        }
    }

    public var tunnelSequence: UInt64
    public var flow: Flow?

    public init(tunnelSequence: UInt64, flow: Flow? = nil) {
        self.tunnelSequence = tunnelSequence
        self.flow = flow
    }

    public var encodedLength: Int { flow == nil ? 9 : 15 }
    public static let maximumLength = 15

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(flow == nil ? 0 : DataFrameHeader.memberFlagFlow)
        buffer.writeInteger(tunnelSequence)
        if let flow {
            buffer.writeInteger(flow.id)
            buffer.writeInteger(flow.sequence)
        }
    }

    /// Reads a member header (from a DATA frame or a recovered member), leaving the reader index at
    /// the inner packet.
    /// On failure the reader index is left where it was.
    public static func read(from body: inout ByteBuffer) -> Result<DataMemberHeader, ContainerError> {
        let (result, consumed) = body.withFieldReader { r in (read(&r), r.offset) }
        if case .success = result { body.moveReaderIndex(forwardBy: consumed) }
        return result
    }

    static func read(_ r: inout FieldReader) -> Result<DataMemberHeader, ContainerError> {
        guard let flags = r.read(as: UInt8.self), let sequence = r.read(as: UInt64.self) else {
            return .failure(.truncated)
        }
        guard flags & ~DataFrameHeader.memberFlagFlow == 0 else { return .failure(.reservedBitsSet) }
        var header = DataMemberHeader(tunnelSequence: sequence)
        if flags & DataFrameHeader.memberFlagFlow != 0 {
            guard let id = r.read(as: UInt16.self), let seq = r.read(as: UInt32.self) else {
                return .failure(.truncated)
            }
            header.flow = Flow(id: id, sequence: seq)
        }
        return .success(header)
    }
}
