/// The flow bucket of an inner packet: FNV-1a (64-bit) over the 5-tuple, folded to the reorder
/// stage's bucket count. Deterministic across processes (Swift's `Hasher` is seeded per process),
/// so both the simulator and the live nodes bucket flows the same way.
public enum FlowHash {
    public static func bucket(of header: InnerPacketHeader?) -> UInt16 {
        guard let header else { return 0 }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: UInt64) {
            var v = value
            for _ in 0..<8 {
                hash = (hash ^ (v & 0xFF)) &* 0x0000_0100_0000_01B3
                v >>= 8
            }
        }
        // Each address in turn, without an array literal (an allocation per packet).
        func mix(_ address: IPAddress) {
            switch address {
            case .v4(let a): mix(UInt64(a))
            case .v6(let h, let l):
                mix(h)
                mix(l)
            }
        }
        mix(header.source)
        mix(header.destination)
        mix(
            UInt64(header.transportProtocol) << 32 | UInt64(header.sourcePort ?? 0) << 16
                | UInt64(header.destinationPort ?? 0)
        )
        return UInt16(truncatingIfNeeded: hash % UInt64(FlowReorder.flowBuckets))
    }
}

/// The buckets of the flows seen last, so that a flow's packets skip the hash: FNV-1a is a chain
/// of 24 dependent multiplications per IPv4 packet (1.6 % of the simulator's CPU samples, for
/// every packet of a `balance` class). Exact: an entry answers only for the very 5-tuple its
/// bucket was computed from; a new flow takes its slot's entry over.
public struct FlowBucketCache {
    private struct Entry {
        var source: IPAddress
        var destination: IPAddress
        var ports: UInt32
        var transportProtocol: UInt8
        var bucket: UInt16
    }

    public static let slots = 16
    private var entries = [Entry?](repeating: nil, count: slots)

    public init() {}

    /// `FlowHash.bucket(of: header)`.
    public mutating func bucket(of header: InnerPacketHeader?) -> UInt16 {
        guard let header else { return 0 }
        let ports = UInt32(header.sourcePort ?? 0) << 16 | UInt32(header.destinationPort ?? 0)
        let hostBits: UInt32 =
            switch header.source {
            case .v4(let a): a
            case .v6(_, let low): UInt32(truncatingIfNeeded: low)
            }
        // Multiplicative hashing (Knuth): the top 4 bits of the product pick one of 16 slots.
        let slot = Int(((ports ^ hostBits ^ UInt32(header.transportProtocol)) &* 0x9E37_79B1) >> 28)
        if let entry = entries[slot], entry.ports == ports, entry.transportProtocol == header.transportProtocol,
            entry.source == header.source, entry.destination == header.destination
        {
            return entry.bucket
        }
        let bucket = FlowHash.bucket(of: header)
        entries[slot] = Entry(
            source: header.source,
            destination: header.destination,
            ports: ports,
            transportProtocol: header.transportProtocol,
            bucket: bucket
        )
        return bucket
    }
}
