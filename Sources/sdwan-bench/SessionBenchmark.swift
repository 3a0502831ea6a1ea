import CSodium
import NIOCore
import SDWANCore

/// Seal + open of a 1400-byte payload through `TransportSession` (header written, per-link counter,
/// replay-window check and commit, in-place AEAD in a `ByteBuffer`) against bare libsodium
/// `crypto_aead_chacha20poly1305_ietf_encrypt_detached` + `decrypt_detached` on the same sizes.
let sessionBenchmark = Benchmark(
    name: "session",
    summary: "TransportSession seal+open of 1400 B vs bare ChaCha20-Poly1305 IETF encrypt+decrypt"
) {
    let payloadLength = 1400
    var random = SeededRandomSource(seed: 3)
    let edgeKey = PrivateKey.generate(using: &random)
    let hubKey = PrivateKey.generate(using: &random)
    var initiator = NoiseHandshakeState(
        pattern: HandshakeWire.pattern,
        isInitiator: true,
        prologue: HandshakeWire.prologue,
        localStaticKey: edgeKey.secret,
        remoteStatic: hubKey.publicKey
    )
    var responder = NoiseHandshakeState(
        pattern: HandshakeWire.pattern,
        isInitiator: false,
        prologue: HandshakeWire.prologue,
        localStaticKey: hubKey.secret,
        remoteStatic: nil
    )
    let psk = PresharedKey.none()
    initiator.setPresharedKey(psk.secret)
    responder.setPresharedKey(psk.secret)
    guard let m1 = try? initiator.writeMessage(payload: [], using: &random),
        (try? responder.readMessage(m1)) != nil,
        let m2 = try? responder.writeMessage(payload: [], using: &random),
        (try? initiator.readMessage(m2)) != nil
    else {
        print("handshake failed")
        return
    }
    let sender = TransportSession(
        keys: initiator.split(),
        isInitiator: true,
        localIndex: 1,
        remoteIndex: 2,
        createdAt: .zero
    )
    let receiver = TransportSession(
        keys: responder.split(),
        isInitiator: false,
        localIndex: 2,
        remoteIndex: 1,
        createdAt: .zero
    )

    var buffer = ByteBufferAllocator().buffer(capacity: 16 + payloadLength + 16)
    buffer.writeRepeatingByte(0, count: WireFormat.transportHeaderLength)
    buffer.writeRepeatingByte(0x5A, count: payloadLength)
    var failures = 0
    let ours = nanosecondsPerOperation(iterations: 200_000) {
        buffer.moveReaderIndex(to: 0)
        guard case .success(let header) = sender.seal(&buffer, linkID: 0, now: .zero) else {
            failures += 1
            return
        }
        if case .failure = receiver.open(&buffer, header: header, now: .zero) { failures += 1 }
    }

    _ = sodium_init()
    var key = [UInt8](repeating: 7, count: 32)
    var nonce = [UInt8](repeating: 0, count: 12)
    var ad = [UInt8](repeating: 1, count: 16)
    var text = [UInt8](repeating: 0x5A, count: payloadLength)
    var tag = [UInt8](repeating: 0, count: 16)
    var tagLength: UInt64 = 0
    var counter: UInt64 = 0
    let bare = nanosecondsPerOperation(iterations: 200_000) {
        counter &+= 1
        withUnsafeBytes(of: counter.bigEndian) { c in for i in 0..<8 { nonce[4 + i] = c[i] } }
        _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
            &text,
            &tag,
            &tagLength,
            text,
            UInt64(payloadLength),
            ad,
            16,
            nil,
            nonce,
            key
        )
        if crypto_aead_chacha20poly1305_ietf_decrypt_detached(
            &text,
            nil,
            text,
            UInt64(payloadLength),
            tag,
            ad,
            16,
            nonce,
            key
        ) != 0 {
            failures += 1
        }
    }
    blackHole((key, ad, failures))
    key[0] = 0
    ad[0] = 0
    print("payload \(payloadLength) B, failures \(failures)")
    report("seal+open 1400 B", subject: ours, baseline: bare, goal: "≤ 1.1×")
}
