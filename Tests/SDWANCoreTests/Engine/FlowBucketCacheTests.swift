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

    /// An IPv6 flow whose addresses are the IPv4-mapped forms (::ffff:a.b.c.d, RFC 4291 §2.5.5.2)
    /// of an IPv4 flow's, with the same protocol and ports, is another flow with another hash:
    /// packets of the two in turn each get their own bucket (a cache keyed on the mapped words
    /// alone answered the one's bucket for the other).
    @Test func anIPv4FlowAndItsMappedIPv6TwinAreTwoFlows() {
        let v4 = InnerPacketHeader(
            source: .v4(0x0A00_0001),
            destination: .v4(0xC0A8_0001),
            dscp: 0,
            transportProtocol: 17,
            sourcePort: 5_060,
            destinationPort: 5_060
        )
        var v6 = v4
        v6.source = .v6(high: 0, low: 0xFFFF_0A00_0001)
        v6.destination = .v6(high: 0, low: 0xFFFF_C0A8_0001)
        #expect(FlowHash.bucket(of: v4) != FlowHash.bucket(of: v6))
        var cache = FlowBucketCache()
        for _ in 0..<4 {
            #expect(cache.bucket(of: v4) == FlowHash.bucket(of: v4))
            #expect(cache.bucket(of: v6) == FlowHash.bucket(of: v6))
        }
    }
}
