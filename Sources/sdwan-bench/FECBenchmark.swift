import CSodium
import CXORBaseline
import NIOCore
import SDWANCore

/// XOR parity throughput in Swift (`XORKernel`) against a plain C loop built in the same release
/// build, and the FEC encoder's per-packet cost at k = 4 against a bare 1400-byte
/// ChaCha20-Poly1305 seal (the engine's later goal: seal + FEC ≤ 1.3× a bare seal).
let fecBenchmark = Benchmark(
    name: "fec",
    summary: "XOR parity: Swift kernel vs C loop; FECEncoder k = 4 per packet vs a 1400-byte seal"
) {
    let size = 1400
    var random = SeededRandomSource(seed: 7)
    var source = [UInt8](repeating: 0, count: size)
    for i in 0..<size { source[i] = UInt8(truncatingIfNeeded: random.next()) }
    var accumulator = [UInt8](repeating: 0, count: size)
    let iterations = 2_000_000

    let swiftXOR = source.withUnsafeBytes { s in
        accumulator.withUnsafeMutableBytes { a in
            nanosecondsPerOperation(iterations: iterations) { XORKernel.xor(s, into: a) }
        }
    }
    let cXOR = source.withUnsafeBufferPointer { s in
        accumulator.withUnsafeMutableBufferPointer { a in
            nanosecondsPerOperation(iterations: iterations) { cxor_into(a.baseAddress!, s.baseAddress!, size) }
        }
    }
    blackHole(accumulator)
    let gbps = { (ns: Double) in (Double(size) / ns * 10).rounded() / 10 }
    print("XOR 1400 B into an accumulator: Swift \(gbps(swiftXOR)) GB/s, C \(gbps(cXOR)) GB/s")
    report(
        "XORKernel.xor 1400 B (time vs C loop)",
        subject: swiftXOR,
        baseline: cXOR,
        goal: "≤ 1.11×, i.e. throughput ≥ 0.9× C"
    )

    // Encoder: protect a 1400-byte member, and poll its parity every 4th packet (k = 4, stride 10,
    // groups fill), written into a reused buffer: the whole per-packet FEC cost on the send side.
    var encoder = FECEncoder(configuration: .init(classID: 1, groupSize: 4, stride: 10, delayBudget: .seconds(1)))
    var member = ByteBufferAllocator().buffer(capacity: size)
    member.writeBytes(source)
    var out = ByteBufferAllocator().buffer(capacity: 2048)
    var now = Instant.zero
    let encode = nanosecondsPerOperation(iterations: iterations / 4) {
        encoder.protect(member, now: now)
        now += .microseconds(10)
        out.clear()
        while encoder.pollParity(into: &out) != nil { out.clear() }
    }
    blackHole(out)

    // A bare seal of the same 1400 bytes through libsodium.
    _ = sodium_init()
    var key = [UInt8](repeating: 1, count: 32)
    var nonce = [UInt8](repeating: 0, count: 12)
    var text = source
    var tag = [UInt8](repeating: 0, count: 16)
    let header = [UInt8](repeating: 4, count: 16)
    let seal = nanosecondsPerOperation(iterations: iterations / 8) {
        nonce[11] &+= 1
        _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
            &text,
            &tag,
            nil,
            text,
            UInt64(size),
            header,
            UInt64(header.count),
            nil,
            nonce,
            key
        )
    }
    blackHole(tag)
    key[0] = 0
    report(
        "FECEncoder k = 4, 1400 B, per packet (vs bare seal)",
        subject: encode,
        baseline: seal,
        goal: "context: engine send with FEC ≤ 1.3× seal, i.e. FEC ≤ 0.3×"
    )
    let withFEC = ((seal + encode) / seal * 1000).rounded() / 1000
    print("seal + FEC k = 4 per packet: \(withFEC)× a bare seal (engine goal ≤ 1.3×, before framing and I/O)")
}
