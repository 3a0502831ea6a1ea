import ArgumentParser
import NIOCore
import SDWANConfig
import SDWANCore

/// `sdwan selfcheck`: exercises the crypto and the wire container on this machine and prints what
/// it did. It is README's main job until the simulator and the demo exist.
struct SelfCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selfcheck",
        abstract: "Check libsodium, keys and the wire container on this machine, and print what was done."
    )

    @Option(help: "Private key file to check (its permissions and format), optional.")
    var keyFile: String?

    func run() throws {
        var random = SystemRandomSource()
        let edge = PrivateKey.generate(using: &random)
        let hub = PrivateKey.generate(using: &random)
        print("edge public key  \(edge.publicKey)")
        print("hub public key   \(hub.publicKey)")
        guard let a = X25519.sharedSecret(edge.secret, hub.publicKey),
            let b = X25519.sharedSecret(hub.secret, edge.publicKey), a.constantTimeEquals(b)
        else { throw ValidationError("X25519 shared secrets differ: libsodium is broken on this machine") }
        print("X25519           edge and hub derive the same shared secret")

        let key = SecretBytes(randomCount: ChaChaPoly.keyLength, using: &random)
        let header = TransportHeader(receiverIndex: 0x0102_0304, linkID: 2, counter: 7)
        var packet = ByteBufferAllocator().buffer(capacity: 1500)
        header.write(to: &packet)
        WireTimestamp(microseconds: 123_456).write(to: &packet)
        packet.writeFrame(.data) { $0.writeBytes(Array("hello branch".utf8)) }
        let plainLength = packet.readableBytes
        TransportContainer.seal(&packet, header: header, key: key)
        print("sealed           \(plainLength) → \(packet.readableBytes) bytes (header 16 + tag 16 clear/added)")

        var forged = packet
        forged.setInteger(UInt8(3), at: forged.readerIndex + 2)
        guard case .failure(.authenticationFailed) = TransportContainer.open(&forged, header: header, key: key) else {
            throw ValidationError("a packet with a changed link id was accepted")
        }
        print("forged link id   dropped: authenticationFailed")

        guard case .success = TransportContainer.open(&packet, header: header, key: key) else {
            throw ValidationError("a valid packet failed to open")
        }
        packet.moveReaderIndex(forwardBy: WireFormat.transportHeaderLength + WireFormat.timestampLength)
        var frames = FrameReader(packet)
        if case .success(let frame)? = frames.next() {
            print("opened           \(frame.type) frame: \"\(String(buffer: frame.body))\"")
        }
        if let keyFile {
            let loaded = try KeyFile.privateKey(path: keyFile)
            print("key file         \(keyFile): ok, public key \(loaded.publicKey)")
        }
        print("selfcheck passed")
    }
}
