import NIOCore
import SDWANCore
import Testing

/// Bad input never crashes and is counted: every prefix of each message type is refused as
/// truncated, every single-bit flip is refused under the reason of the field it hits, wrong
/// version or type is refused.
@Suite struct MalformedInputTests {
    /// An edge with a pending initiation, the hub's answer to it (not yet delivered), and the pair.
    static func pendingHandshake() -> (SessionPair, initiation: ByteBuffer, response: ByteBuffer) {
        let pair = SessionPair(linkDelays: [0: .milliseconds(5)], seed: 21)
        pair.edge.connect(now: pair.now, wallTime: pair.wall, using: &pair.random)
        let initiation = pair.edge.pollTransmit()!.datagram
        let other = HandshakeResponder(localStatic: pair.hubKey)
        other.addPeer(pair.edgeKey.publicKey, presharedKey: PresharedKey(secret: SecretBytes(copying: pair.pskBytes)))
        let accept = try! other.handleInitiation(initiation, linkID: 0, now: pair.now, using: &pair.random) { _ in
            false
        }.get()
        return (pair, initiation, accept.response.datagram)
    }

    static func flipped(_ buffer: ByteBuffer, bit: Int) -> ByteBuffer {
        var copy = ByteBuffer(bytes: Array(buffer.readableBytesView))
        let byte = copy.getInteger(at: bit / 8, as: UInt8.self)!
        copy.setInteger(byte ^ (1 << UInt8(bit % 8)), at: bit / 8)
        return copy
    }

    static func prefix(_ buffer: ByteBuffer, _ n: Int) -> ByteBuffer {
        ByteBuffer(bytes: Array(buffer.readableBytesView.prefix(n)))
    }

    /// The reason a flip in byte `i` of a handshake message must be refused under.
    static func handshakeReason(byte i: Int, mac1Offset: Int) -> SessionDropReason {
        switch i {
        case 0: .wrongMessageType
        case 1: .unsupportedVersion
        case 3: .reservedBitsSet
        case ..<(mac1Offset + HandshakeWire.macLength): .mac1Invalid
        default: .mac2Invalid
        }
    }

    @Test func everyPrefixOfAnInitiationIsTruncated() {
        let (pair, initiation, _) = Self.pendingHandshake()
        #expect(initiation.readableBytes == HandshakeWire.initiationLength)
        for n in 0..<initiation.readableBytes {
            let result = pair.responder.handleInitiation(
                Self.prefix(initiation, n),
                linkID: 0,
                now: pair.now,
                using: &pair.random
            ) { _ in false }
            #expect(result.failureReason == .truncated, "prefix \(n)")
        }
        #expect(pair.responder.drops[.truncated] == UInt64(HandshakeWire.initiationLength))
        var longer = initiation
        longer.writeInteger(UInt8(0))
        let tooLong = pair.responder.handleInitiation(longer, linkID: 0, now: pair.now, using: &pair.random) { _ in
            false
        }
        #expect(tooLong.failureReason == .trailingBytes)
    }

    @Test func everyBitFlipOfAnInitiationIsRefusedUnderItsField() {
        let (pair, initiation, _) = Self.pendingHandshake()
        for bit in 0..<(initiation.readableBytes * 8) {
            let result = pair.responder.handleInitiation(
                Self.flipped(initiation, bit: bit),
                linkID: 0,
                now: pair.now,
                using: &pair.random
            ) { _ in false }
            let expected = Self.handshakeReason(byte: bit / 8, mac1Offset: 116)
            #expect(result.failureReason == expected, "bit \(bit)")
        }
        #expect(pair.responder.drops.total == UInt64(HandshakeWire.initiationLength * 8))
        // The untouched original is still accepted: nothing above consumed responder state.
        let ok = pair.responder.handleInitiation(initiation, linkID: 0, now: pair.now, using: &pair.random) { _ in false
        }
        #expect(ok.failureReason == nil)
    }

    @Test func everyPrefixAndBitFlipOfAResponseIsRefusedAndTheHandshakeSurvives() {
        let (pair, _, response) = Self.pendingHandshake()
        #expect(response.readableBytes == HandshakeWire.responseLength)
        for n in 0..<response.readableBytes {
            var datagram = Self.prefix(response, n)
            #expect(
                pair.edge.handleDatagram(&datagram, linkID: 0, now: pair.now) == .dropped(.truncated),
                "prefix \(n)"
            )
        }
        for bit in 0..<(response.readableBytes * 8) {
            var datagram = Self.flipped(response, bit: bit)
            let expected = Self.handshakeReason(byte: bit / 8, mac1Offset: 60)
            #expect(pair.edge.handleDatagram(&datagram, linkID: 0, now: pair.now) == .dropped(expected), "bit \(bit)")
        }
        #expect(pair.edge.drops.total == UInt64(HandshakeWire.responseLength * 9))
        // Forged responses never spent the pending handshake: the real one completes it.
        var real = response
        #expect(pair.edge.handleDatagram(&real, linkID: 0, now: pair.now) == .handshakeCompleted)
    }

    /// A transport packet from the hub to an established edge, opened by a fresh receiving session.
    static func transportPacket(payload: Int) -> (SessionPair, ByteBuffer) {
        let pair = SessionPair(linkDelays: [0: .milliseconds(5), 1: .milliseconds(5)], seed: 22)
        pair.establish()
        var packet = ByteBuffer()
        packet.writeRepeatingByte(0, count: WireFormat.transportHeaderLength)
        WireTimestamp(pair.now).write(to: &packet)
        packet.writeRepeatingByte(0xAB, count: payload)
        _ = pair.branch.seal(&packet, linkID: 1, now: pair.now)
        return (pair, packet)
    }

    @Test func everyPrefixOfATransportPacketIsRefused() {
        let (pair, minimal) = Self.transportPacket(payload: 0)
        #expect(minimal.readableBytes == WireFormat.transportOverhead)
        for n in 0..<minimal.readableBytes {
            var datagram = Self.prefix(minimal, n)
            #expect(
                pair.edge.handleDatagram(&datagram, linkID: 1, now: pair.now) == .dropped(.truncated),
                "prefix \(n)"
            )
        }
        // Past the fixed parts a prefix is indistinguishable from a shorter packet: the tag refuses it.
        let (pair2, packet) = Self.transportPacket(payload: 40)
        for n in 0..<packet.readableBytes {
            var datagram = Self.prefix(packet, n)
            let expected: SessionDropReason = n < WireFormat.transportOverhead ? .truncated : .authenticationFailed
            #expect(
                pair2.edge.handleDatagram(&datagram, linkID: 1, now: pair2.now) == .dropped(expected),
                "prefix \(n)"
            )
        }
    }

    @Test func everyBitFlipOfATransportPacketIsRefusedUnderItsField() {
        let (pair, packet) = Self.transportPacket(payload: 24)
        for bit in 0..<(packet.readableBytes * 8) {
            var datagram = Self.flipped(packet, bit: bit)
            let expected: SessionDropReason
            switch bit / 8 {
            case 0: expected = .wrongMessageType
            case 1: expected = .unsupportedVersion
            case 3: expected = .reservedBitsSet
            case 4..<8: expected = .unknownReceiverIndex
            default: expected = .authenticationFailed  // link id, counter, payload, tag
            }
            #expect(pair.edge.handleDatagram(&datagram, linkID: 1, now: pair.now) == .dropped(expected), "bit \(bit)")
        }
        var original = packet
        guard case .packet = pair.edge.handleDatagram(&original, linkID: 1, now: pair.now) else {
            Issue.record("the original packet must still open")
            return
        }
        var replay = packet
        #expect(pair.edge.handleDatagram(&replay, linkID: 1, now: pair.now) == .dropped(.replayed))
    }

    /// The replay window remembers every packet a link authenticated, not only its first: after a
    /// run of five packets opens, a replay of each of them is refused.
    @Test func replayOfAnyPacketOfALinkIsRefused() {
        let pair = SessionPair(linkDelays: [0: .milliseconds(5), 1: .milliseconds(5)], seed: 23)
        pair.establish()
        var packets: [ByteBuffer] = []
        for i in 0..<5 {
            var packet = ByteBuffer()
            packet.writeRepeatingByte(0, count: WireFormat.transportHeaderLength)
            WireTimestamp(pair.now).write(to: &packet)
            packet.writeRepeatingByte(UInt8(i), count: 8)
            _ = pair.branch.seal(&packet, linkID: 1, now: pair.now)
            packets.append(packet)
        }
        for (i, packet) in packets.enumerated() {
            var datagram = packet
            guard case .packet = pair.edge.handleDatagram(&datagram, linkID: 1, now: pair.now) else {
                Issue.record("packet \(i) must open")
                return
            }
        }
        for (i, packet) in packets.enumerated() {
            var replay = packet
            #expect(pair.edge.handleDatagram(&replay, linkID: 1, now: pair.now) == .dropped(.replayed), "packet \(i)")
        }
    }

    @Test func wrongVersionOrTypeIsRefusedOnEveryMessage() {
        let (pair, initiation, response) = Self.pendingHandshake()
        for version: UInt8 in [0, 2, 255] {
            var i = initiation
            i.setInteger(version, at: 1)
            let r1 = pair.responder.handleInitiation(i, linkID: 0, now: pair.now, using: &pair.random) { _ in false }
            #expect(r1.failureReason == .unsupportedVersion)
            var r = ByteBuffer(bytes: Array(response.readableBytesView))
            r.setInteger(version, at: 1)
            #expect(pair.edge.handleDatagram(&r, linkID: 0, now: pair.now) == .dropped(.unsupportedVersion))
        }
        // A response or transport packet at the hub's handshake entry, an initiation or a cookie
        // reply at the edge: wrong type.
        let asInitiation = pair.responder.handleInitiation(response, linkID: 0, now: pair.now, using: &pair.random) {
            _ in false
        }
        #expect(asInitiation.failureReason == .wrongMessageType)
        var atEdge = initiation
        #expect(pair.edge.handleDatagram(&atEdge, linkID: 0, now: pair.now) == .dropped(.wrongMessageType))
        var cookie = ByteBuffer(bytes: [3, 1, 0, 0] + [UInt8](repeating: 0, count: 60))
        #expect(pair.edge.handleDatagram(&cookie, linkID: 0, now: pair.now) == .dropped(.wrongMessageType))
        let (pair2, packet) = Self.transportPacket(payload: 8)
        var wrongVersion = ByteBuffer(bytes: Array(packet.readableBytesView))
        wrongVersion.setInteger(UInt8(2), at: 1)
        #expect(pair2.edge.handleDatagram(&wrongVersion, linkID: 1, now: pair2.now) == .dropped(.unsupportedVersion))
    }
}

extension Result {
    var failureReason: Failure? {
        if case .failure(let reason) = self { return reason }
        return nil
    }
}
