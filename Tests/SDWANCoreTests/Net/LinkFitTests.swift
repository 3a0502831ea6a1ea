import NIOCore
import SDWANCore
import Testing

/// No datagram is placed on a link it does not fit: an edge and a hub exchange inner packets of
/// exactly the inner MTU (DATA frames with the largest header, FEC parity over them, duplicates on
/// both links, probes and reports riding along) over links of 1500 and 1400 bytes, and every
/// datagram is checked against its own link's UDP payload budget (MTU − 28).
@Suite struct LinkFitTests {
    static let hubAddress = UDPEndpoint("198.51.100.1:51820")!
    static let edgeAddresses: [UInt8: UDPEndpoint] = [
        1: UDPEndpoint("192.0.2.1:4001")!, 2: UDPEndpoint("192.0.2.2:4002")!,
    ]
    static let mtus: [UInt8: Int] = [1: 1_500, 2: 1_400]

    /// IPv4/UDP, `total` bytes, DSCP `dscp`, from `source` to `destination`.
    static func packet(total: Int, dscp: UInt8, source: UInt32, destination: UInt32, id: UInt32) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: total)
        b.writeMultipleIntegers(UInt8(0x45), dscp << 2, UInt16(total), UInt16(0), UInt16(0x4000))
        b.writeMultipleIntegers(UInt8(64), UInt8(17), UInt16(0), source, destination)
        b.writeMultipleIntegers(UInt16(40_000), UInt16(5_004), UInt16(total - 20), UInt16(0), id)
        b.writeRepeatingByte(UInt8(truncatingIfNeeded: id), count: total - 32)
        return b
    }

    @Test func innerMTUPacketsParityAndDuplicatesFitEveryLink() throws {
        var random = SeededRandomSource(seed: 5)
        let hubKey = PrivateKey.generate(using: &random)
        let edgeKey = PrivateKey.generate(using: &random)
        let psk = PresharedKey.generate(using: &random)
        let pskText = psk.base64ForKeyFile()
        let hubPublic = hubKey.publicKey
        // FEC k = 2 on voice (best) and transactional (duplicate on both links).
        var fec = [ClassFECPolicy?](repeating: nil, count: DefaultClasses.classes.count)
        fec[0] = ClassFECPolicy(groupSize: 2, stride: 1, delayBudget: .milliseconds(20))
        fec[2] = ClassFECPolicy(groupSize: 2, stride: 1, delayBudget: .milliseconds(20))
        let links = Self.mtus.keys.sorted().map { id in
            EngineLinkConfiguration(id: id, name: "l\(id)", mtu: Self.mtus[id]!, destination: Self.hubAddress)
        }
        let wall = WallTime(secondsSinceEpoch: 1_800_000_000, nanoseconds: 0)
        let hub = HubEndpoint(privateKey: hubKey, random: random.derived(1))
        hub.addBranch(
            HubBranchConfiguration(
                name: "b",
                publicKey: edgeKey.publicKey,
                allowedPrefixes: [IPPrefix("10.1.0.0/16")!],
                engine: EngineConfiguration(links: [], fec: fec)
            ),
            presharedKey: try PresharedKey(base64: pskText),
            now: .zero,
            wallTime: wall
        )
        let edge = TunnelEngine(
            configuration: EngineConfiguration(links: links, fec: fec),
            keys: .edge(EdgeSession(localStatic: edgeKey, hubPublicKey: hubPublic, presharedKey: psk)),
            now: .zero,
            wallTime: wall,
            random: random.derived(2)
        )
        let innerMTU = 1_400 - 28 - (36 + 3 + 10 + 21)
        #expect(edge.innerMTU == innerMTU)

        var largest: [UInt8: Int] = [:]
        var misfits = 0
        var deliveredAtHub = 0
        var deliveredAtEdge = 0
        func pump(_ now: Instant) {
            var moved = true
            while moved {
                moved = false
                while let t = edge.pollTransmit() {
                    moved = true
                    if t.datagram.readableBytes > Self.mtus[t.linkID]! - 28 { misfits += 1 }
                    largest[t.linkID] = max(largest[t.linkID] ?? 0, t.datagram.readableBytes)
                    hub.handleDatagram(t.datagram, listener: 0, source: Self.edgeAddresses[t.linkID]!, now: now)
                }
                while let t = hub.pollTransmit() {
                    moved = true
                    let id = Self.edgeAddresses.first { $0.value == t.destination }!.key
                    if t.datagram.readableBytes > Self.mtus[id]! - 28 { misfits += 1 }
                    largest[id] = max(largest[id] ?? 0, t.datagram.readableBytes)
                    edge.handleDatagram(t.datagram, linkID: id, source: Self.hubAddress, now: now)
                }
                while hub.pollDelivery() != nil { deliveredAtHub += 1 }
                while edge.pollDelivery() != nil { deliveredAtEdge += 1 }
                while hub.pollEvent() != nil {}
                while edge.pollEvent() != nil {}
            }
        }
        edge.start(now: .zero, wallTime: wall)
        var now = Instant.zero
        var id: UInt32 = 0
        // 3 s in 5 ms steps: the first second establishes the session and the links; then voice
        // (EF), transactional (AF21) and default packets of exactly the inner MTU both ways.
        for step in 0..<600 {
            now = .zero + .milliseconds(Int64(step) * 5)
            if let d = edge.nextDeadline(), d <= now { edge.handleTimeout(now: now, wallTime: wall) }
            if let d = hub.nextDeadline(), d <= now { hub.handleTimeout(now: now, wallTime: wall) }
            if step >= 200 {
                for dscp in [DSCP.ef, DSCP.af21, 0] {
                    id += 1
                    edge.handleInnerPacket(
                        Self.packet(total: innerMTU, dscp: dscp, source: 0x0A01_0005, destination: 0x0AC8_0009, id: id),
                        now: now
                    )
                    hub.handleInnerPacket(
                        Self.packet(total: innerMTU, dscp: dscp, source: 0x0AC8_0009, destination: 0x0A01_0005, id: id),
                        now: now
                    )
                }
            }
            pump(now)
        }
        #expect(misfits == 0, "largest datagram per link: \(largest)")
        #expect(hub.engine(forBranch: "b")?.innerMTU == innerMTU)
        // Traffic really flowed, parity was really sent, and the 1400-byte link really carried
        // datagrams within 12 bytes of its budget: the formula reserves the largest DATA header
        // (21: with FEC sequence and flow fields) inside a PARITY frame; a member without flow
        // fields (6) in a frame whose DATA-only fields (class, flags, FEC sequence: 6) parity
        // does not carry leaves 12.
        #expect(deliveredAtHub >= Int(id) && deliveredAtEdge >= Int(id))
        #expect((edge.fecStatistics(forClass: 0).encoder?.parityFrames ?? 0) > 0)
        #expect((largest[2] ?? 0) >= 1_400 - 28 - 12)
        // One byte more is refused at the edge (and answered with ICMP when a router address is set).
        edge.handleInnerPacket(
            Self.packet(total: innerMTU + 1, dscp: 0, source: 0x0A01_0005, destination: 0x0AC8_0009, id: 0),
            now: now
        )
        #expect(edge.drops[EngineDropReason.oversize.rawValue] == 1)
    }
}
