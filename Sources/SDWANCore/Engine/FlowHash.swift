/// The flow bucket of an inner packet: FNV-1a (64-bit) over the 5-tuple, folded to the reorder
/// stage's bucket count. Deterministic across processes (Swift's `Hasher` is seeded per process),
/// so both the simulator and the live nodes bucket flows the same way.
enum FlowHash {
    static func bucket(of header: InnerPacketHeader?) -> UInt16 {
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
