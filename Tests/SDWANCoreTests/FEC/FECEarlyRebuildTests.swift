import NIOCore
import SDWANCore
import Testing

/// A member rebuilt from parity before its original arrives (parity on a faster link) is delivered
/// early, and its original is then told apart from a plain duplicate so that the engine can count
/// the rebuild as early rather than as a repaired loss (docs/fec.md, "Counters").
@Suite struct FECEarlyRebuildTests {
    /// One group of 4 (stride 1) and its parity body, members 10…13 bytes long.
    static func group() -> (members: [ByteBuffer], parity: ByteBuffer) {
        var encoder = FECEncoder(configuration: .init(classID: 2, groupSize: 4, stride: 1, delayBudget: .seconds(1)))
        var members: [ByteBuffer] = []
        for i in 0..<4 {
            let member = ByteBuffer(repeating: UInt8(0x40 + i), count: 10 + i)
            members.append(member)
            _ = encoder.protect(member, now: .zero)
        }
        var frame = ByteBuffer()
        _ = encoder.pollParity(into: &frame)
        return (members, frame.getSlice(at: frame.readerIndex + 3, length: frame.readableBytes - 3)!)
    }

    @Test func originalArrivingAfterItsRebuildIsReportedApartFromDuplicates() throws {
        let (members, parity) = Self.group()
        var decoder = FECDecoder(configuration: .init(classID: 2))
        let now = Instant.zero
        for s in 0..<3 {
            let d = decoder.receiveMember(sequence: UInt32(s), payload: members[s], now: now)
            #expect(d == .deliver)
        }
        // The parity outran member 3: it is rebuilt at once, byte for byte.
        decoder.receiveParityFrame(parity, now: now)
        let polled = decoder.pollRecovered()
        let rebuilt = try #require(polled)
        #expect(rebuilt.sequence == 3 && rebuilt.payload == members[3])
        // Its original lands: early rebuild, not a repair; a second copy is a plain duplicate.
        let original = decoder.receiveMember(sequence: 3, payload: members[3], now: now)
        #expect(original == .originalAfterRebuild)
        let copy = decoder.receiveMember(sequence: 3, payload: members[3], now: now)
        #expect(copy == .duplicate)
        let again = decoder.receiveMember(sequence: 1, payload: members[1], now: now)
        #expect(again == .duplicate)
        #expect(decoder.counters.recovered == 1)
        #expect(decoder.counters.rebuiltBeforeOriginal == 1)
        #expect(decoder.counters.duplicateMembers == 2)
    }

    @Test func aRebuildWhoseOriginalNeverArrivesStaysARepair() throws {
        let (members, parity) = Self.group()
        var decoder = FECDecoder(configuration: .init(classID: 2))
        for s in [0, 1, 3] {
            _ = decoder.receiveMember(sequence: UInt32(s), payload: members[s], now: .zero)
        }
        decoder.receiveParityFrame(parity, now: .zero)
        let polled = decoder.pollRecovered()
        let rebuilt = try #require(polled)
        #expect(rebuilt.sequence == 2 && rebuilt.payload == members[2])
        #expect(decoder.counters.recovered == 1)
        #expect(decoder.counters.rebuiltBeforeOriginal == 0)
    }
}
