import NIOCore
import SDWANCore
import Testing

/// The PARITY frame's byte layout and its refusals, and the decoder's guarantees on single
/// groups: each single loss repaired byte for byte, nothing delivered twice, nothing inconsistent
/// delivered, malformed frames dropped and counted.
@Suite struct ParityCodecTests {
    static func bytes(_ values: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: values) }

    /// Members of random lengths 0…1400 and random contents.
    static func members(count: Int, seed: UInt64) -> [ByteBuffer] {
        var random = SeededRandomSource(seed: seed)
        return (0..<count).map { _ in
            let length = Int.random(in: 0...1400, using: &random)
            var b = ByteBuffer()
            for _ in 0..<length { b.writeInteger(UInt8.random(in: 0...255, using: &random)) }
            return b
        }
    }

    /// Encodes one group and returns its PARITY frame body.
    static func parityBody(
        _ members: [ByteBuffer],
        stride: Int = 1,
        firstSequence: UInt32 = 0,
        classID: UInt8 = 3
    ) -> ByteBuffer {
        var encoder = FECEncoder(
            configuration: .init(classID: classID, groupSize: members.count * stride, stride: 1),
            firstSequence: firstSequence
        )
        for m in members { encoder.protect(m, now: .zero) }
        encoder.flush(now: .zero)
        var frame = ByteBuffer()
        _ = encoder.pollParity(into: &frame)
        #expect(frame.readInteger(as: UInt8.self) == FrameType.parity.rawValue)
        #expect(Int(frame.readInteger(as: UInt16.self)!) == frame.readableBytes)
        return frame
    }

    @Test func parityFrameFollowsTheByteTable() throws {
        let a = Self.bytes([0x01, 0x02, 0x03])
        let b = Self.bytes([0xF0, 0x0F])
        let body = Self.parityBody([a, b], firstSequence: 0x0102_0304)
        // class 3, count 2, stride 1, base 0x01020304, lengths 3 ^ 2 = 1, payload a ^ (b ‖ 0).
        #expect(Array(body.readableBytesView) == [3, 2, 0, 1, 1, 2, 3, 4, 0, 1, 0xF1, 0x0D, 0x03])
        let frame = try ParityFrame.parse(body).get()
        #expect(frame.count == 2 && frame.stride == 1 && frame.baseSequence == 0x0102_0304)
        #expect(frame.memberIndex(of: 0x0102_0305) == 1)
        #expect(frame.memberIndex(of: 0x0102_0306) == nil)
        #expect(ParityFrame.frameLength(longestMember: 3) == 3 + 10 + 3)
        var rewritten = ByteBuffer()
        frame.write(to: &rewritten)
        #expect(rewritten.getSlice(at: 3, length: rewritten.readableBytes - 3) == body)
    }

    @Test func everyPrefixOfTheFieldsIsRefusedAsTruncated() {
        let body = Self.parityBody(Self.members(count: 4, seed: 1))
        for length in 0..<ParityFrame.fieldsLength {
            let prefix = body.getSlice(at: body.readerIndex, length: length)!
            #expect(ParityFrame.parse(prefix) == .failure(.truncated))
        }
        #expect((try? ParityFrame.parse(body).get()) != nil)
    }

    @Test(arguments: [
        ([UInt8]([1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ParityDropReason.emptyGroup),
        ([1, 33, 0, 1, 0, 0, 0, 0, 0, 0], .groupTooLarge),
        ([1, 2, 0, 0, 0, 0, 0, 0, 0, 0], .zeroStride),
        ([1, 1, 0, 1, 0, 0, 0, 0, 0, 2, 0xAA], .inconsistentLength),
    ])
    func malformedParityIsDroppedAndCounted(body: [UInt8], reason: ParityDropReason) {
        #expect(ParityFrame.parse(Self.bytes(body)) == .failure(reason))
        var decoder = FECDecoder(configuration: .init(classID: 1))
        decoder.receiveParityFrame(Self.bytes(body), now: .zero)
        #expect(decoder.counters.malformedParity[reason.rawValue] == 1)
        #expect(decoder.counters.paritiesReceived == 0)
    }

    @Test func parityForAnotherClassIsCountedAndIgnored() {
        var decoder = FECDecoder(configuration: .init(classID: 1))
        decoder.receiveParityFrame(Self.parityBody(Self.members(count: 2, seed: 2), classID: 2), now: .zero)
        #expect(decoder.counters.malformedParity[ParityDropReason.unknownClass.rawValue] == 1)
    }

    /// Every member of every group size 1…8 lost in turn: always rebuilt, byte-identical, once.
    @Test(arguments: 1...8)
    func eachSingleLossIsRecoveredByteIdentical(k: Int) throws {
        let members = Self.members(count: k, seed: UInt64(k))
        let body = Self.parityBody(members, firstSequence: UInt32.max - 2)  // across the 2^32 wrap
        for missing in 0..<k {
            var decoder = FECDecoder(configuration: .init(classID: 3))
            for (i, m) in members.enumerated() where i != missing {
                let d = decoder.receiveMember(sequence: UInt32.max - 2 &+ UInt32(i), payload: m, now: .zero)
                #expect(d == .deliver)
            }
            decoder.receiveParityFrame(body, now: .zero)
            let polled = decoder.pollRecovered()
            let recovered = try #require(polled)
            #expect(recovered.sequence == UInt32.max - 2 &+ UInt32(missing))
            #expect(recovered.payload == members[missing])
            let none = decoder.pollRecovered()
            #expect(none == nil)
            // The original arriving later (told apart from a plain duplicate: the rebuild was
            // early), a second copy of it, and the parity again: nothing delivered twice.
            let late = decoder.receiveMember(sequence: recovered.sequence, payload: members[missing], now: .zero)
            #expect(late == .originalAfterRebuild)
            let copy = decoder.receiveMember(sequence: recovered.sequence, payload: members[missing], now: .zero)
            #expect(copy == .duplicate)
            decoder.receiveParityFrame(body, now: .zero)
            let noneAgain = decoder.pollRecovered()
            #expect(noneAgain == nil)
            #expect(decoder.counters.recovered == 1 && decoder.counters.parityUnneeded == 1)
        }
    }

    /// Parity that arrives first (a faster parity link) waits for the members and recovers the
    /// last missing one when the next-to-last arrives.
    @Test func parityArrivingBeforeItsMembersRecoversWhenOneRemainsMissing() throws {
        let members = Self.members(count: 4, seed: 5)
        var decoder = FECDecoder(configuration: .init(classID: 3))
        decoder.receiveParityFrame(Self.parityBody(members), now: .zero)
        #expect(decoder.pendingParityCount == 1)
        #expect(decoder.nextDeadline() == Instant.zero + decoder.configuration.parityHoldTime)
        for i in [0, 2] { _ = decoder.receiveMember(sequence: UInt32(i), payload: members[i], now: .zero) }
        let none = decoder.pollRecovered()
        #expect(none == nil)
        _ = decoder.receiveMember(sequence: 3, payload: members[3], now: .zero)
        let polled = decoder.pollRecovered()
        let recovered = try #require(polled)
        #expect(recovered.sequence == 1 && recovered.payload == members[1])
        #expect(decoder.pendingParityCount == 0)
        // Member 1 was rebuilt before it arrived: its original is not delivered again.
        let again = decoder.receiveMember(sequence: 1, payload: members[1], now: .zero)
        #expect(again == .originalAfterRebuild)
        #expect(decoder.counters.rebuiltBeforeOriginal == 1)
    }

    @Test func twoLossesInAGroupAreCountedUnrecoverableWhenTheHoldTimeEnds() {
        let members = Self.members(count: 4, seed: 6)
        var decoder = FECDecoder(configuration: .init(classID: 3, parityHoldTime: .milliseconds(50)))
        for i in [0, 3] { _ = decoder.receiveMember(sequence: UInt32(i), payload: members[i], now: .zero) }
        decoder.receiveParityFrame(Self.parityBody(members), now: .zero)
        decoder.handleTimeout(now: .zero + .milliseconds(49))
        #expect(decoder.counters.unrecoverableGroups == 0)
        decoder.handleTimeout(now: .zero + .milliseconds(50))
        #expect(decoder.counters.unrecoverableGroups == 1 && decoder.pendingParityCount == 0)
        let none = decoder.pollRecovered()
        #expect(decoder.nextDeadline() == nil && none == nil)
    }

    /// A length-recovery field or padding that does not add up (a peer's bug) must not deliver a
    /// wrong member: lengths past the payload and non-zero bytes where the lost member's zero
    /// padding must be are refused. (A wrong byte inside the lost member's length cannot be seen
    /// by XOR at all: that is what the AEAD seal around every frame is for.)
    @Test(arguments: [
        (8, UInt16(0), "recovered length 6 runs past the 4-byte payload"),
        (8, UInt16(6), "recovered length 0 leaves non-zero bytes in the padding"),
        (13, UInt16(0xFF), "payload byte 3 no longer zero where the 1-byte member is padded"),
    ])
    func inconsistentParityDeliversNothing(offset: Int, value: UInt16, why: String) {
        let members = [Self.bytes([1, 2, 3, 4]), Self.bytes([5, 6]), Self.bytes([7])]
        var body = Self.parityBody(members)
        if offset == 8 {
            body.setInteger(value, at: body.readerIndex + offset)
        } else {
            body.setInteger(UInt8(value), at: body.readerIndex + offset)
        }
        var decoder = FECDecoder(configuration: .init(classID: 3))
        _ = decoder.receiveMember(sequence: 0, payload: members[0], now: .zero)
        _ = decoder.receiveMember(sequence: 1, payload: members[1], now: .zero)
        decoder.receiveParityFrame(body, now: .zero)
        let none = decoder.pollRecovered()
        #expect(none == nil, "\(why)")
        #expect(decoder.counters.inconsistentParity == 1 && decoder.counters.recovered == 0)
    }

    @Test func membersOlderThanTheWindowAndLateParityAreRefused() {
        var decoder = FECDecoder(configuration: .init(classID: 3, window: 16))
        let members = Self.members(count: 2, seed: 7)
        let body = Self.parityBody(members)
        _ = decoder.receiveMember(sequence: 0, payload: members[0], now: .zero)
        _ = decoder.receiveMember(sequence: 16, payload: members[0], now: .zero)
        let old = decoder.receiveMember(sequence: 0, payload: members[0], now: .zero)
        #expect(old == .tooOld)
        let fresh = decoder.receiveMember(sequence: 1, payload: members[0], now: .zero)
        #expect(fresh == .deliver)
        decoder.receiveParityFrame(body, now: .zero)
        let none = decoder.pollRecovered()
        #expect(decoder.counters.lateParity == 1 && none == nil)
    }

    @Test func heldParityBeyondTheCapacityEvictsTheOldest() {
        var decoder = FECDecoder(configuration: .init(classID: 3, maxPendingParities: 2))
        for g in 0..<3 {
            let members = Self.members(count: 2, seed: UInt64(10 + g))
            decoder.receiveParityFrame(Self.parityBody(members, firstSequence: UInt32(g * 2)), now: .zero)
        }
        #expect(decoder.pendingParityCount == 2 && decoder.counters.evictedParity == 1)
    }
}
