import NIOCore
import SDWANCore
import Testing

/// Builds inner packets for classifier tests.
enum InnerPackets {
    static func ipv4(
        source: String = "10.1.0.5",
        destination: String = "10.200.0.9",
        dscp: UInt8 = 0,
        proto: UInt8 = 17,
        sourcePort: UInt16 = 40_000,
        destinationPort: UInt16 = 5_060,
        payload: Int = 20,
        fragmentOffset: UInt16 = 0
    ) -> ByteBuffer {
        guard case .v4(let s) = IPAddress(source)!, case .v4(let d) = IPAddress(destination)! else {
            preconditionFailure()
        }
        var b = ByteBufferAllocator().buffer(capacity: 64 + payload)
        b.writeInteger(UInt8(0x45))
        b.writeInteger(dscp << 2)
        b.writeInteger(UInt16(20 + 8 + payload))
        b.writeInteger(UInt16(1))
        b.writeInteger(fragmentOffset)
        b.writeInteger(UInt8(64))
        b.writeInteger(proto)
        b.writeInteger(UInt16(0))
        b.writeInteger(s)
        b.writeInteger(d)
        b.writeInteger(sourcePort)
        b.writeInteger(destinationPort)
        b.writeInteger(UInt16(8 + payload))
        b.writeInteger(UInt16(0))
        b.writeRepeatingByte(0xAB, count: payload)
        return b
    }

    static func ipv6(
        source: String = "2001:db8:1::5",
        destination: String = "2001:db8:99::9",
        dscp: UInt8 = 0,
        proto: UInt8 = 17,
        sourcePort: UInt16 = 40_000,
        destinationPort: UInt16 = 443,
        extensionHeaders: [UInt8] = []
    ) -> ByteBuffer {
        guard case .v6(let sh, let sl) = IPAddress(source)!, case .v6(let dh, let dl) = IPAddress(destination)! else {
            preconditionFailure()
        }
        var b = ByteBufferAllocator().buffer(capacity: 128)
        b.writeInteger(UInt32(6) << 28 | UInt32(dscp) << 22)
        b.writeInteger(UInt16(8 + 8 * extensionHeaders.count))
        b.writeInteger(extensionHeaders.first ?? proto)
        b.writeInteger(UInt8(64))
        b.writeMultipleIntegers(sh, sl, dh, dl)
        for (i, _) in extensionHeaders.enumerated() {
            let next = i + 1 < extensionHeaders.count ? extensionHeaders[i + 1] : proto
            b.writeInteger(next)
            b.writeInteger(UInt8(0))
            b.writeRepeatingByte(0, count: 6)
        }
        b.writeMultipleIntegers(sourcePort, destinationPort, UInt16(8), UInt16(0))
        return b
    }
}

@Suite struct ClassifierTests {
    static let voice = 0, video = 1, pos = 2, bulk = 3, fallback = 4
    static let classifier = Classifier(
        rules: [
            ClassRule(classIndex: voice, dscp: [DSCP.ef]),
            ClassRule(classIndex: video, dscp: [DSCP.af41, DSCP.af42]),
            ClassRule(
                classIndex: pos,
                protocols: [6],
                destinationPorts: [8443...8443],
                destinationPrefixes: [IPPrefix("10.200.0.0/16")!]
            ),
            ClassRule(classIndex: voice, protocols: [17], ports: [16_384...32_767]),
            ClassRule(classIndex: bulk, dscp: [DSCP.af11, DSCP.cs1]),
        ],
        defaultClassIndex: fallback
    )

    @Test func dscpSelectsClassOnIPv4AndIPv6() {
        #expect(Self.classifier.classify(InnerPacketHeader.parse(InnerPackets.ipv4(dscp: DSCP.ef))!) == Self.voice)
        #expect(Self.classifier.classify(InnerPacketHeader.parse(InnerPackets.ipv6(dscp: DSCP.af42))!) == Self.video)
        #expect(Self.classifier.classify(InnerPacketHeader.parse(InnerPackets.ipv4(dscp: DSCP.cs1))!) == Self.bulk)
        #expect(Self.classifier.classify(InnerPacketHeader.parse(InnerPackets.ipv4(dscp: 1))!) == Self.fallback)
    }

    @Test func portsProtocolAndPrefixesCombine() {
        let posPacket = InnerPackets.ipv4(proto: 6, destinationPort: 8443)
        #expect(Self.classifier.classify(InnerPacketHeader.parse(posPacket)!) == Self.pos)
        let elsewhere = InnerPackets.ipv4(destination: "192.0.2.1", proto: 6, destinationPort: 8443)
        #expect(Self.classifier.classify(InnerPacketHeader.parse(elsewhere)!) == Self.fallback)
        // An RTP port on either side selects voice even without a DSCP mark.
        let rtpReply = InnerPackets.ipv4(proto: 17, sourcePort: 20_000, destinationPort: 50_000)
        #expect(Self.classifier.classify(InnerPacketHeader.parse(rtpReply)!) == Self.voice)
    }

    /// The first matching rule wins, whether the classifier looks rules up by DSCP (≤ 64 rules)
    /// or walks them all (more): a packet marked for bulk on an RTP port is voice (the port rule
    /// comes first), and over every DSCP value × protocol × port × destination the table agrees
    /// with the walk of the same rules padded past 64 with rules that match nothing.
    @Test func firstMatchWinsWithAndWithoutTheDSCPTable() {
        let rtpMarkedBulk = InnerPackets.ipv4(dscp: DSCP.af11, proto: 17, destinationPort: 20_000)
        #expect(Self.classifier.classify(InnerPacketHeader.parse(rtpMarkedBulk)!) == Self.voice)
        let posMarkedVoice = InnerPackets.ipv4(dscp: DSCP.ef, proto: 6, destinationPort: 8443)
        #expect(Self.classifier.classify(InnerPacketHeader.parse(posMarkedVoice)!) == Self.voice)
        let padding = [ClassRule](repeating: ClassRule(classIndex: 9, protocols: [250]), count: 60)
        let walked = Classifier(rules: Self.classifier.rules + padding, defaultClassIndex: Self.fallback)
        var compared = 0
        for dscp in UInt8(0)..<64 {
            for proto: UInt8 in [6, 17] {
                for port: UInt16 in [80, 8443, 20_000] {
                    for destination in ["10.200.0.9", "192.0.2.1"] {
                        let packet = InnerPackets.ipv4(
                            destination: destination,
                            dscp: dscp,
                            proto: proto,
                            destinationPort: port
                        )
                        let header = InnerPacketHeader.parse(packet)!
                        #expect(Self.classifier.classify(header) == walked.classify(header))
                        compared += 1
                    }
                }
            }
        }
        #expect(compared == 64 * 2 * 3 * 2)
    }

    @Test func ipv6ExtensionHeadersAreWalkedToThePorts() throws {
        let packet = InnerPackets.ipv6(proto: 17, sourcePort: 17_000, extensionHeaders: [0, 60])
        let header = try #require(InnerPacketHeader.parse(packet))
        #expect(header.transportProtocol == 17 && header.sourcePort == 17_000)
        #expect(Self.classifier.classify(header) == Self.voice)
    }

    @Test func laterFragmentsHaveNoPorts() throws {
        let header = try #require(InnerPacketHeader.parse(InnerPackets.ipv4(sourcePort: 20_000, fragmentOffset: 100)))
        #expect(header.sourcePort == nil && header.destinationPort == nil)
        #expect(Self.classifier.classify(header) == Self.fallback)
    }

    @Test func unparseablePacketsGoToDefaultAndAreCounted() {
        var classifier = Self.classifier
        let valid = InnerPackets.ipv4(dscp: DSCP.ef)
        for length in 0..<20 {
            let cut = valid.getSlice(at: valid.readerIndex, length: length)!
            #expect(classifier.classify(cut).classIndex == Self.fallback)
        }
        var garbage = ByteBufferAllocator().buffer(capacity: 4)
        garbage.writeBytes([0x12, 0x34, 0x56, 0x78])
        #expect(classifier.classify(garbage).classIndex == Self.fallback)
        #expect(classifier.unparseable == 21)
        // Every prefix of an IPv6 packet shorter than its fixed header also falls back.
        let v6 = InnerPackets.ipv6()
        for length in 0..<40 { #expect(classifier.classify(v6.getSlice(at: 0, length: length)!).header == nil) }
    }
}
