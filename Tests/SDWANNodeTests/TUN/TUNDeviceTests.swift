import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SDWANCore
import SDWANIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The TUN device keeps packet boundaries both ways: a burst of mixed 60–1500-byte packets read
/// from it and written to it, each checked byte for byte. The device is opened here, then moved
/// into a namespace of its own (its descriptor keeps working), where python3 sends and receives.
@Suite(.serialized, .enabled(if: Netns.available && Netns.haveTools(["python3"])), .timeLimit(.minutes(5)))
struct TUNDeviceTests {
    static let count = 300
    /// IP packet sizes 60 … 1500 in a scrambled order (7919 is prime to 1441).
    static func size(_ i: Int) -> Int { 60 + (i * 7_919) % 1_441 }
    /// The payload byte j of packet i (after its 4-byte index), the same formula as the python side.
    static func byte(_ i: Int, _ j: Int) -> UInt8 { UInt8(truncatingIfNeeded: i * 31 + j * 7) }

    final class Collected: @unchecked Sendable {
        let lock = NIOLock()
        var packets: [ByteBuffer] = []
    }

    @Test func mixedSizeBurstKeepsPacketBoundariesBothWays() async throws {
        let tag = "d\(getpid() % 100_000)"
        let namespace = "sdwan-\(tag)-io"
        let name = "\(tag)io"
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        _ = try? await Netns.run(["ip", "netns", "del", namespace])
        try await Netns.must(["ip", "netns", "add", namespace])
        defer { _ = try? Netns.runBlocking(["ip", "netns", "del", namespace]) }
        let collected = Collected()
        let device = try TUNDevice.open(name: name, mtu: 1_500, eventLoop: group.next()) { batch in
            batch.drain { packet in collected.lock.withLock { collected.packets.append(packet) } }
        }
        defer { device.close() }
        #expect(device.name == name)
        try await Netns.must(["ip", "link", "set", "dev", name, "netns", namespace])
        try await Netns.must(["ip", "-n", namespace, "link", "set", "dev", name, "mtu", "1500", "up"])
        try await Netns.must(["ip", "-n", namespace, "addr", "add", "10.252.0.1/24", "dev", name])

        // Kernel → device: python sends datagrams routed into the TUN.
        let send = try await Netns.run([
            "ip", "netns", "exec", namespace, "python3", "-c", Self.sender, "\(Self.count)",
        ])
        #expect(send.ok, "sender: \(send.stderr)")
        let deadline = Date().addingTimeInterval(5)
        var udp: [ByteBuffer] = []
        while Date() < deadline {
            udp = collected.lock.withLock { collected.packets }.filter {
                $0.getInteger(at: $0.readerIndex, as: UInt8.self) == 0x45
                    && $0.getInteger(at: $0.readerIndex + 9, as: UInt8.self) == 17
            }
            if udp.count >= Self.count { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(udp.count == Self.count, "read \(udp.count) UDP packets of \(Self.count)")
        var intact = 0
        for packet in udp {
            #expect(packet.readerIndex == TunnelEngine.headroom)
            let total = Int(packet.getInteger(at: packet.readerIndex + 2, as: UInt16.self) ?? 0)
            let payload = packet.getBytes(at: packet.readerIndex + 28, length: packet.readableBytes - 28) ?? []
            guard total == packet.readableBytes, payload.count >= 4 else { continue }
            let i = Int(
                UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3])
            )
            let expected = (0..<(Self.size(i) - 32)).map { Self.byte(i, $0) }
            if total == Self.size(i) && Array(payload[4...]) == expected { intact += 1 }
        }
        #expect(intact == Self.count, "intact packets read: \(intact)")

        // Device → kernel: one write per packet, received by python on the TUN's address.
        let receiver = try Netns.Background(
            ["ip", "netns", "exec", namespace, "python3", "-u", "-c", Self.receiver, "\(Self.count)"],
            logPath: NSTemporaryDirectory() + "sdwan-\(tag)-receiver.log"
        )
        defer { receiver.stop() }
        let ready = await receiver.waitForLog("ready")
        #expect(ready)
        for i in 0..<Self.count { #expect(device.write(Self.packet(i))) }
        await receiver.wait(timeout: 5)
        #expect(receiver.log.contains("received \(Self.count) intact \(Self.count)"), "receiver: \(receiver.log)")
        #expect(device.packetsWritten == UInt64(Self.count))
    }

    /// IPv4/UDP 10.252.0.2:9998 → 10.252.0.1:9997, `size(i)` bytes, header checksum set, UDP checksum 0.
    static func packet(_ i: Int) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 1_500)
        let total = size(i)
        b.writeMultipleIntegers(UInt8(0x45), UInt8(0), UInt16(total), UInt16(truncatingIfNeeded: i), UInt16(0x4000))
        b.writeMultipleIntegers(UInt8(64), UInt8(17), UInt16(0), UInt32(0x0AFC_0002), UInt32(0x0AFC_0001))
        b.setInteger(InternetChecksum.finish(InternetChecksum.sum(b, at: 0, length: 20)), at: 10)
        b.writeMultipleIntegers(UInt16(9_998), UInt16(9_997), UInt16(total - 20), UInt16(0))
        b.writeInteger(UInt32(i))
        for j in 0..<(total - 32) { b.writeInteger(byte(i, j)) }
        return b
    }

    static let sender = """
        import socket, sys
        count = int(sys.argv[1])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO: no fragments
        for i in range(count):
            size = 60 + (i * 7919) % 1441
            body = i.to_bytes(4, "big") + bytes((i * 31 + j * 7) & 0xFF for j in range(size - 32))
            s.sendto(body, ("10.252.0.2", 9999))
        """

    static let receiver = """
        import socket, sys
        count = int(sys.argv[1])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("10.252.0.1", 9997))
        s.settimeout(3.0)
        print("ready")
        received = intact = 0
        try:
            while received < count:
                data = s.recv(65535)
                received += 1
                i = int.from_bytes(data[:4], "big")
                size = 60 + (i * 7919) % 1441
                if len(data) == size - 28 and data[4:] == bytes((i * 31 + j * 7) & 0xFF for j in range(size - 32)):
                    intact += 1
        except socket.timeout:
            pass
        print("received", received, "intact", intact)
        """
}
