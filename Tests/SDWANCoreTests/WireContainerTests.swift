import NIOCore
import SDWANCore
import Testing

/// docs/wire-format.md §3–§5: the container's layout, authentication of every header bit, and
/// rejection of malformed input.
@Suite struct WireContainerTests {
    static let header = TransportHeader(receiverIndex: 0xA1B2_C3D4, linkID: 3, counter: 0x0102_0304_0506_0708)

    static func key(_ seed: UInt64 = 9) -> SecretBytes {
        var random = SeededRandomSource(seed: seed)
        return SecretBytes(randomCount: ChaChaPoly.keyLength, using: &random)
    }

    static func sealedPacket(key: borrowing SecretBytes, payload: [UInt8] = Array("inner packet".utf8)) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        header.write(to: &buffer)
        WireTimestamp(microseconds: 0xDEAD_BEEF).write(to: &buffer)
        buffer.writeFrame(.data) { $0.writeBytes(payload) }
        TransportContainer.seal(&buffer, header: header, key: key)
        return buffer
    }

    @Test func headerLayoutIsAsDocumented() throws {
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        Self.header.write(to: &buffer)
        #expect(
            buffer.readableBytesView.elementsEqual([
                0x04, 0x01, 0x03, 0x00, 0xA1, 0xB2, 0xC3, 0xD4, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            ])
        )
        #expect(try TransportHeader.peek(buffer).get() == Self.header)
    }

    @Test func nonceIsLinkIDAndCounter() {
        let nonce = Self.header.withNonce { Array($0) }
        #expect(nonce == [0, 0, 0, 3, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])
    }

    @Test func sealedPacketOpensToTimestampAndFrames() throws {
        let key = Self.key()
        var packet = Self.sealedPacket(key: key)
        #expect(packet.readableBytes == WireFormat.transportOverhead + WireFormat.frameHeaderLength + 12)
        let header = try TransportHeader.peek(packet).get()
        try TransportContainer.open(&packet, header: header, key: key).get()
        packet.moveReaderIndex(forwardBy: WireFormat.transportHeaderLength)
        #expect(WireTimestamp.read(from: &packet) == WireTimestamp(microseconds: 0xDEAD_BEEF))
        var frames = FrameReader(packet)
        let frame = try #require(try frames.next()?.get())
        #expect(frame.type == .data)
        #expect(String(buffer: frame.body) == "inner packet")
        #expect(frames.next() == nil)
    }

    /// Every single-bit flip anywhere in the packet — header (associated data), ciphertext or
    /// tag — is refused. Header flips that make the header unparseable are refused before AEAD.
    @Test func everySingleBitFlipIsRefused() {
        let key = Self.key()
        let original = Self.sealedPacket(key: key)
        var refusedByAEAD = 0
        var refusedByParser = 0
        for byte in 0..<original.readableBytes {
            for bit in 0..<8 {
                var packet = original
                let at = packet.readerIndex + byte
                packet.setInteger(packet.getInteger(at: at, as: UInt8.self)! ^ (1 << bit), at: at)
                switch TransportHeader.peek(packet) {
                case .failure:
                    refusedByParser += 1
                case .success(let header):
                    // The receiver looks keys up by index; a flipped index finds no session, but
                    // even with the right key the tag must fail.
                    if case .failure(.authenticationFailed) = TransportContainer.open(&packet, header: header, key: key)
                    {
                        refusedByAEAD += 1
                    }
                }
            }
        }
        #expect(refusedByAEAD + refusedByParser == original.readableBytes * 8)
        // Type (8 bits), version (8) and flags (8) are checked by the parser; everything else by AEAD.
        #expect(refusedByParser == 24)
    }

    @Test func everyPrefixIsRefusedAsTruncated() {
        let key = Self.key()
        let original = Self.sealedPacket(key: key)
        for length in 0..<original.readableBytes {
            var packet = original.getSlice(at: original.readerIndex, length: length)!
            let result: Result<Void, ContainerError> = TransportHeader.peek(packet).flatMap {
                TransportContainer.open(&packet, header: $0, key: key)
            }
            switch result {
            case .success: Issue.record("prefix of \(length) bytes was accepted")
            case .failure(let reason):
                // Short of the fixed parts: truncated; long enough but cut: the tag fails.
                let fixed = WireFormat.transportOverhead
                #expect(reason == (length < fixed ? .truncated : .authenticationFailed), "length \(length)")
            }
        }
    }

    @Test func wrongKeyFailsAuthentication() throws {
        var packet = Self.sealedPacket(key: Self.key(1))
        let header = try TransportHeader.peek(packet).get()
        #expect(throws: ContainerError.authenticationFailed) {
            try TransportContainer.open(&packet, header: header, key: Self.key(2)).get()
        }
    }

    @Test(arguments: [
        (0, UInt8(1), ContainerError.wrongMessageType),
        (1, UInt8(2), .unsupportedVersion),
        (1, UInt8(0), .unsupportedVersion),
        (3, UInt8(0x80), .reservedBitsSet),
    ])
    func headerFieldsAreValidated(offset: Int, value: UInt8, expected: ContainerError) {
        var packet = Self.sealedPacket(key: Self.key())
        packet.setInteger(value, at: packet.readerIndex + offset)
        #expect(throws: expected) { try TransportHeader.peek(packet).get() }
    }

    @Test func frameReaderSkipsIgnorableTypesAndRejectsUnknownMandatoryOnes() throws {
        var frames = ByteBufferAllocator().buffer(capacity: 64)
        frames.writeFrame(.probe) { $0.writeInteger(UInt32(7)) }
        frames.writeBytes([0x90, 0x00, 0x02, 0xAA, 0xBB])  // unknown, ignorable
        frames.writeFrame(.data) { $0.writeBytes([1, 2, 3]) }
        var reader = FrameReader(frames)
        #expect(try reader.next()?.get().type == .probe)
        let data = try #require(try reader.next()?.get())
        #expect(data.type == .data && data.body.readableBytesView.elementsEqual([1, 2, 3]))
        #expect(reader.next() == nil)

        var mandatory = ByteBufferAllocator().buffer(capacity: 8)
        mandatory.writeBytes([0x7F, 0x00, 0x00])
        var bad = FrameReader(mandatory)
        #expect(throws: ContainerError.unknownFrameType) { try bad.next()?.get() }
        #expect(bad.next() == nil)

        var overlong = ByteBufferAllocator().buffer(capacity: 8)
        overlong.writeBytes([0x01, 0x00, 0x09, 0x00])
        var cut = FrameReader(overlong)
        #expect(throws: ContainerError.truncated) { try cut.next()?.get() }
    }

    /// The last frame's body is the reader's buffer itself, handed over with its reader index at
    /// the body (no slice); earlier frames are slices. Either way a body is exactly its frame's bytes.
    @Test func lastFrameBodyIsTheBufferItselfAndExactlyItsBytes() throws {
        var frames = ByteBufferAllocator().buffer(capacity: 64)
        frames.writeFrame(.probe) { $0.writeInteger(UInt32(7)) }
        frames.writeFrame(.data) { $0.writeBytes([1, 2, 3]) }
        var reader = FrameReader(frames)
        let probe = try #require(try reader.next()?.get())
        #expect(probe.body.readerIndex == 0 && probe.body.readableBytesView.elementsEqual([0, 0, 0, 7]))
        let data = try #require(try reader.next()?.get())
        #expect(data.type == .data && data.body.readableBytesView.elementsEqual([1, 2, 3]))
        #expect(data.body.readerIndex == 3 + 4 + 3)  // inside the packet's buffer
        #expect(reader.next() == nil)

        // Trailing ignorable bytes: the data frame is not the last, so it is a slice of its bytes.
        var trailing = ByteBufferAllocator().buffer(capacity: 64)
        trailing.writeFrame(.data) { $0.writeBytes([4, 5]) }
        trailing.writeBytes([0x90, 0x00, 0x01, 0xCC])
        var second = FrameReader(trailing)
        let sliced = try #require(try second.next()?.get())
        #expect(sliced.body.readerIndex == 0 && sliced.body.readableBytesView.elementsEqual([4, 5]))
        #expect(second.next() == nil)
    }

    @Test func emptyPayloadSealsAndOpens() throws {
        let key = Self.key()
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        Self.header.write(to: &buffer)
        WireTimestamp(microseconds: 1).write(to: &buffer)
        TransportContainer.seal(&buffer, header: Self.header, key: key)
        #expect(buffer.readableBytes == WireFormat.transportOverhead)
        try TransportContainer.open(&buffer, header: Self.header, key: key).get()
    }
}
