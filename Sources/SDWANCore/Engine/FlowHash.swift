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
///
/// The 5-tuple is compared as five integers (IPv4 addresses as IPv4-mapped IPv6 ones, the family
/// beside the ports, so no IPv6 packet matches an IPv4 entry), in 64 slots: with 16, flows that
/// shared a slot missed on every packet — 18 324 of the simulator benchmark's 115 040 lookups at
/// scale 0.01, and 16 with 64 slots.
public struct FlowBucketCache {
    /// A 5-tuple as five words: the addresses' high and low halves, then the family (bit 40), the
    /// protocol (bits 32–39) and the ports. Synthesised equality compares the words.
    private struct Key: Equatable {
        var sourceHigh: UInt64 = 0
        var sourceLow: UInt64 = 0
        var destinationHigh: UInt64 = 0
        var destinationLow: UInt64 = 0
        var rest: UInt64 = 0

        init() {}

        @inline(__always)
        init(_ header: InnerPacketHeader) {
            (sourceHigh, sourceLow) = Self.words(header.source)
            (destinationHigh, destinationLow) = Self.words(header.destination)
            let family: UInt64 = if case .v4 = header.source { 0 } else { 1 }
            rest =
                family << 40 | UInt64(header.transportProtocol) << 32 | UInt64(header.sourcePort ?? 0) << 16
                | UInt64(header.destinationPort ?? 0)
        }

        @inline(__always)
        private static func words(_ address: IPAddress) -> (UInt64, UInt64) {
            switch address {
            case .v4(let a): (0, 0xFFFF_0000_0000 | UInt64(a))
            case .v6(let high, let low): (high, low)
            }
        }
    }

    private struct Entry {
        var key = Key()
        var bucket: UInt16 = 0
        var used = false
    }

    public static let slots = 64
    private var entries: [Entry]

    public init() {
        entries = [Entry](repeating: Entry(), count: Self.slots)
    }

    /// `FlowHash.bucket(of: header)` (inlined: the header is read in the caller's registers, not
    /// copied into a call; only a miss calls the hash).
    @inline(__always)
    public mutating func bucket(of header: InnerPacketHeader?) -> UInt16 {
        guard let header else { return 0 }
        let key = Key(header)
        // Multiplicative hashing (Knuth): the top 6 bits of the product pick one of 64 slots.
        let mixed = UInt32(truncatingIfNeeded: key.rest ^ key.sourceLow ^ key.destinationLow)
        let slot = Int((mixed &* 0x9E37_79B1) >> 26)
        if entries[slot].used && entries[slot].key == key { return entries[slot].bucket }
        let bucket = FlowHash.bucket(of: header)
        entries[slot] = Entry(key: key, bucket: bucket, used: true)
        return bucket
    }
}
