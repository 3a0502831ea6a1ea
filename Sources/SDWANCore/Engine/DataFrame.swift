import NIOCore

/// The DATA frame (docs/wire-format.md §5, type 0x01): one inner packet with what the receiver
/// needs to dedupe, recover and reorder it.
///
/// ```
/// offset size field
/// 0      1    class id: index into the class table both ends share (from config)
/// 1      1    flags: bit 0 = FEC sequence present; bit 1 = flow sequence present; others 0
/// 2      8    tunnel sequence: per tunnel and direction, across links and rekeys (dedupe)
/// [10    4    FEC sequence: per class, numbering the members of FEC groups]  if bit 0
/// [..    2+4  flow id, flow sequence (striping/reorder)]                     if bit 1
/// ..     n    the inner packet
/// ```
///
/// FEC protects the whole frame body, so a recovered packet carries its class and tunnel sequence
/// and goes through the same dedupe as any other.
public struct DataFrameHeader: Hashable, Sendable {
    public static let flagFEC: UInt8 = 0x01
    public static let flagFlow: UInt8 = 0x02
    static let knownFlags: UInt8 = flagFEC | flagFlow

    public var classID: UInt8
    public var tunnelSequence: UInt64
    public var fecSequence: UInt32?
    public var flow: (id: UInt16, sequence: UInt32)?

    public init(
        classID: UInt8,
        tunnelSequence: UInt64,
        fecSequence: UInt32? = nil,
        flow: (id: UInt16, sequence: UInt32)? = nil
    ) {
        self.classID = classID
        self.tunnelSequence = tunnelSequence
        self.fecSequence = fecSequence
        self.flow = flow
    }

    /// Bytes this header occupies in the frame body.
    public var encodedLength: Int { 10 + (fecSequence == nil ? 0 : 4) + (flow == nil ? 0 : 6) }

    /// The largest header: what the inner-MTU budget reserves.
    public static let maximumLength = 20

    public func write(to buffer: inout ByteBuffer) {
        var flags: UInt8 = 0
        if fecSequence != nil { flags |= Self.flagFEC }
        if flow != nil { flags |= Self.flagFlow }
        buffer.writeInteger(classID)
        buffer.writeInteger(flags)
        buffer.writeInteger(tunnelSequence)
        if let fecSequence { buffer.writeInteger(fecSequence) }
        if let flow {
            buffer.writeInteger(flow.id)
            buffer.writeInteger(flow.sequence)
        }
    }

    /// Reads the header from a DATA frame body, leaving the reader index at the inner packet.
    public static func read(from body: inout ByteBuffer) -> Result<DataFrameHeader, ContainerError> {
        guard let classID = body.readInteger(as: UInt8.self), let flags = body.readInteger(as: UInt8.self),
            let sequence = body.readInteger(as: UInt64.self)
        else { return .failure(.truncated) }
        guard flags & ~knownFlags == 0 else { return .failure(.reservedBitsSet) }
        var header = DataFrameHeader(classID: classID, tunnelSequence: sequence)
        if flags & flagFEC != 0 {
            guard let fec = body.readInteger(as: UInt32.self) else { return .failure(.truncated) }
            header.fecSequence = fec
        }
        if flags & flagFlow != 0 {
            guard let id = body.readInteger(as: UInt16.self), let seq = body.readInteger(as: UInt32.self) else {
                return .failure(.truncated)
            }
            header.flow = (id, seq)
        }
        return .success(header)
    }

    public static func == (lhs: DataFrameHeader, rhs: DataFrameHeader) -> Bool {
        lhs.classID == rhs.classID && lhs.tunnelSequence == rhs.tunnelSequence && lhs.fecSequence == rhs.fecSequence
            && lhs.flow?.id == rhs.flow?.id && lhs.flow?.sequence == rhs.flow?.sequence
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(classID)
        hasher.combine(tunnelSequence)
        hasher.combine(fecSequence)
        hasher.combine(flow?.id)
        hasher.combine(flow?.sequence)
    }
}
