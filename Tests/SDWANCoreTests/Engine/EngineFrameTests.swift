import NIOCore
import SDWANCore
import Testing

@Suite struct EngineFrameTests {
    @Test(arguments: [
        DataFrameHeader(classID: 3, member: .init(tunnelSequence: 0x0102_0304_0506_0708)),
        DataFrameHeader(classID: 0, fecSequence: 77, member: .init(tunnelSequence: 9)),
        DataFrameHeader(
            classID: 200,
            fecSequence: 1,
            member: .init(tunnelSequence: .max, flow: .init(id: 513, sequence: 4_000_000_000))
        ),
        DataFrameHeader(classID: 1, member: .init(tunnelSequence: 5, flow: .init(id: 2, sequence: 3))),
    ])
    func dataHeaderRoundTripsAndEveryPrefixIsRefused(header: DataFrameHeader) throws {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        header.write(to: &buffer)
        #expect(buffer.readableBytes == header.encodedLength)
        #expect(header.encodedLength <= DataFrameHeader.maximumLength)
        buffer.writeBytes([0xAA, 0xBB])
        var copy = buffer
        #expect(try DataFrameHeader.read(from: &copy).get() == header)
        #expect(copy.readableBytesView.elementsEqual([0xAA, 0xBB]))
        for length in 0..<header.encodedLength {
            var cut = buffer.getSlice(at: 0, length: length)!
            #expect(throws: ContainerError.truncated) { try DataFrameHeader.read(from: &cut).get() }
        }
    }

    @Test func unknownDataFlagsAreRefused() {
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        DataFrameHeader(classID: 1, member: .init(tunnelSequence: 1)).write(to: &buffer)
        var badFlags = buffer
        badFlags.setInteger(UInt8(0x04), at: 1)
        #expect(throws: ContainerError.reservedBitsSet) { try DataFrameHeader.read(from: &badFlags).get() }
        var badMemberFlags = buffer
        badMemberFlags.setInteger(UInt8(0x80), at: 2)
        #expect(throws: ContainerError.reservedBitsSet) { try DataFrameHeader.read(from: &badMemberFlags).get() }
    }

    @Test func linkAnnouncementRoundTripsAndMalformedIsRefused() throws {
        let message = ControlMessage.linkAnnouncement([
            LinkAnnouncement(
                linkID: 0,
                name: "mpls",
                tier: 1,
                cost: 5,
                metered: false,
                mtu: 1500,
                upKbps: 20_000,
                downKbps: 50_000
            ),
            LinkAnnouncement(
                linkID: 2,
                name: "lte",
                tier: 2,
                cost: 50,
                metered: true,
                mtu: 1428,
                upKbps: 10_000,
                downKbps: 30_000
            ),
        ])
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        message.write(to: &buffer)
        let full = buffer
        #expect(try ControlMessage.read(from: &buffer).get() == message)
        for length in 0..<full.readableBytes {
            var cut = full.getSlice(at: 0, length: length)!
            #expect(throws: ContainerError.truncated) { try ControlMessage.read(from: &cut).get() }
        }
        var unknown = full
        unknown.setInteger(UInt8(0x7E), at: 0)
        #expect(throws: ContainerError.unknownFrameType) { try ControlMessage.read(from: &unknown).get() }
    }
}
