import SDWANCore
import Testing

@Suite struct FlowBucketCacheTests {
    /// 20 000 packets in random order from 288 flows that differ in one field at a time (source,
    /// destination, protocol: TCP and UDP on the same ports; IPv4 and IPv6; with and without
    /// ports): more flows than slots, so flows that differ in a single field share slots. The cache
    /// answers exactly what the hash does, through hits, misses and slots taken over by other flows
    /// (dropping any one field from the cache's comparison fails this: tried).
    @Test func answersWhatTheHashAnswers() {
        var random = SeededRandomSource(seed: 5)
        var flows: [InnerPacketHeader] = []
        for s in 0..<24 {
            for d in 0..<3 {
                for variant in 0..<4 {
                    let v6 = variant == 3
                    var header = InnerPacketHeader(
                        source: v6 ? .v6(high: 0x2001_0DB8 << 32, low: UInt64(s)) : .v4(0x0A00_0001 + UInt32(s)),
                        destination: v6
                            ? .v6(high: 0x2001_0DB8 << 32, low: 99 + UInt64(d)) : .v4(0xC0A8_0001 + UInt32(d)),
                        dscp: UInt8(variant),
                        transportProtocol: variant == 0 ? 1 : (variant == 1 ? 6 : 17)
                    )
                    if variant != 0 {
                        header.sourcePort = 40_000
                        header.destinationPort = 445
                    }
                    flows.append(header)
                }
            }
        }
        var cache = FlowBucketCache()
        for _ in 0..<20_000 {
            let header = flows[Int(random.next() % UInt64(flows.count))]
            #expect(cache.bucket(of: header) == FlowHash.bucket(of: header))
        }
        #expect(cache.bucket(of: nil) == 0)
    }
}
