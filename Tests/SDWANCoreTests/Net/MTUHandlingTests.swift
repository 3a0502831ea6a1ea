import NIOCore
import SDWANCore
import Testing

@Suite struct MTUHandlingTests {
    /// A TCP SYN with options MSS, NOP, window scale; checksum filled in as a sender would.
    static func syn(ipv6: Bool, mss: UInt16, flags: UInt8 = 0x02) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 80)
        let tcpLength = 28
        if ipv6 {
            b.writeInteger(UInt32(6) << 28)
            b.writeInteger(UInt16(tcpLength))
            b.writeInteger(UInt8(6))
            b.writeInteger(UInt8(64))
            b.writeMultipleIntegers(UInt64(0x2001_0db8_0001_0000), UInt64(5), UInt64(0x2001_0db8_0099_0000), UInt64(9))
        } else {
            b.writeMultipleIntegers(UInt8(0x45), UInt8(0), UInt16(20 + tcpLength), UInt16(1), UInt16(0x4000))
            b.writeMultipleIntegers(UInt8(64), UInt8(6), UInt16(0), UInt32(0x0A01_0005), UInt32(0x0AC8_0009))
        }
        let tcp = b.writerIndex
        b.writeMultipleIntegers(UInt16(40_000), UInt16(443), UInt32(1), UInt32(0))
        b.writeMultipleIntegers(UInt8(7 << 4), flags, UInt16(64_240), UInt16(0), UInt16(0))
        b.writeMultipleIntegers(UInt8(2), UInt8(4), mss, UInt8(1), UInt8(3), UInt8(3), UInt8(7))
        b.setInteger(tcpChecksum(b, tcpOffset: tcp, ipv6: ipv6), at: tcp + 16)
        return b
    }

    /// The TCP checksum over the pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1), computed from scratch.
    static func tcpChecksum(_ b: ByteBuffer, tcpOffset: Int, ipv6: Bool) -> UInt16 {
        var copy = b
        copy.setInteger(UInt16(0), at: tcpOffset + 16)
        let length = b.writerIndex - tcpOffset
        var pseudo =
            ipv6 ? InternetChecksum.sum(copy, at: 8, length: 32) : InternetChecksum.sum(copy, at: 12, length: 8)
        pseudo += UInt32(length) + 6
        return InternetChecksum.finish(InternetChecksum.sum(copy, at: tcpOffset, length: length, initial: pseudo))
    }

    @Test(arguments: [false, true])
    func synMSSIsClampedToTheInnerMTUWithAValidChecksum(ipv6: Bool) {
        var packet = Self.syn(ipv6: ipv6, mss: 1460)
        let tcp = ipv6 ? 40 : 20
        #expect(MSSClamp.clamp(&packet, mtu: 1380))
        let expected: UInt16 = ipv6 ? 1320 : 1340  // 1380 − IP header − 20
        #expect(packet.getInteger(at: tcp + 22, as: UInt16.self) == expected)
        // The incrementally updated checksum equals one computed from scratch.
        #expect(
            packet.getInteger(at: tcp + 16, as: UInt16.self) == Self.tcpChecksum(packet, tcpOffset: tcp, ipv6: ipv6)
        )
    }

    @Test func smallerMSSAndNonSYNSegmentsAreLeftAlone() {
        var small = Self.syn(ipv6: false, mss: 1200)
        let before = small
        #expect(!MSSClamp.clamp(&small, mtu: 1380))
        #expect(small == before)
        var ack = Self.syn(ipv6: false, mss: 1460, flags: 0x10)
        #expect(!MSSClamp.clamp(&ack, mtu: 1380))
        let synAck = Self.syn(ipv6: false, mss: 1460, flags: 0x12)
        var copy = synAck
        #expect(MSSClamp.clamp(&copy, mtu: 1380))
    }

    @Test func truncatedSYNsNeverTrap() {
        let full = Self.syn(ipv6: false, mss: 1460)
        for length in 0..<full.readableBytes {
            var cut = full.getSlice(at: 0, length: length)!
            _ = MSSClamp.clamp(&cut, mtu: 1380)
        }
    }

    @Test func ipv4FragmentationNeededQuotesTheOriginalWithValidChecksums() throws {
        let big = InnerPackets.ipv4(payload: 1_400)
        let reply = try #require(PacketTooBig.reply(to: big, mtu: 1380, routerAddress: IPAddress("10.255.0.1")!))
        let header = try #require(InnerPacketHeader.parse(reply))
        #expect(header.source == IPAddress("10.255.0.1") && header.destination == IPAddress("10.1.0.5"))
        #expect(header.transportProtocol == 1)
        #expect(reply.getInteger(at: 20, as: UInt8.self) == 3 && reply.getInteger(at: 21, as: UInt8.self) == 4)
        #expect(reply.getInteger(at: 26, as: UInt16.self) == 1380)
        #expect(reply.readableBytes == 576)
        // A correct one's-complement checksum sums to 0xFFFF over the covered bytes.
        #expect(InternetChecksum.sum(reply, at: 0, length: 20) == 0xFFFF)
        #expect(InternetChecksum.sum(reply, at: 20, length: reply.readableBytes - 20) == 0xFFFF)
    }

    @Test func ipv6PacketTooBigHasAValidPseudoHeaderChecksum() throws {
        var big = InnerPackets.ipv6()
        big.writeRepeatingByte(0, count: 1_500)
        let reply = try #require(PacketTooBig.reply(to: big, mtu: 1380, routerAddress: IPAddress("2001:db8:ff::1")!))
        #expect(reply.readableBytes == 1280)
        #expect(reply.getInteger(at: 40, as: UInt8.self) == 2)
        #expect(reply.getInteger(at: 44, as: UInt32.self) == 1380)
        var pseudo = InternetChecksum.sum(reply, at: 8, length: 32)
        pseudo += UInt32(reply.readableBytes - 40) + 58
        #expect(InternetChecksum.sum(reply, at: 40, length: reply.readableBytes - 40, initial: pseudo) == 0xFFFF)
    }

    @Test func icmpErrorsNeverTriggerICMPErrors() throws {
        let big = InnerPackets.ipv4(payload: 1_400)
        let error = try #require(PacketTooBig.reply(to: big, mtu: 1380, routerAddress: IPAddress("10.255.0.1")!))
        #expect(PacketTooBig.reply(to: error, mtu: 500, routerAddress: IPAddress("10.255.0.1")!) == nil)
        #expect(PacketTooBig.reply(to: big, mtu: 1380, routerAddress: IPAddress("::1")!) == nil)
    }
}
