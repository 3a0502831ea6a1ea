import CSodium
import NIOCore
import SDWANCore

#if canImport(Glibc)
import Glibc
#endif

/// A small benchmark harness: each benchmark measures its subject and a baseline in the same run and
/// prints both with their ratio, since absolute figures on a shared machine mean little.
struct Benchmark: Sendable {
    let name: String
    let summary: String
    let run: @Sendable () -> Void
}

/// Nanoseconds per operation of `body`, best of `rounds` rounds of `iterations` calls: the minimum
/// is the least disturbed by the other tenants of the machine.
func nanosecondsPerOperation(iterations: Int, rounds: Int = 7, _ body: () -> Void) -> Double {
    let iterations = max(1, Int(Double(iterations) * benchmarkScale))
    let rounds = benchmarkScale < 1 ? 1 : rounds
    let clock = ContinuousClock()
    for _ in 0..<max(1, iterations / 10) { body() }  // warm-up
    var best = Double.infinity
    for _ in 0..<rounds {
        let elapsed = clock.measure {
            for _ in 0..<iterations { body() }
        }
        let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        best = min(best, ns / Double(iterations))
    }
    return best
}

/// Prints one comparison line: subject, baseline, ratio and the goal it is held to.
func report(_ label: String, subject: Double, baseline: Double, goal: String) {
    let ratio = subject / baseline
    let s = (subject * 10).rounded() / 10
    let b = (baseline * 10).rounded() / 10
    let r = (ratio * 1000).rounded() / 1000
    print("\(label): \(s) ns/op vs baseline \(b) ns/op, ratio \(r)× (goal \(goal))")
}

/// The baseline most benchmarks compare with: one bare libsodium ChaCha20-Poly1305 IETF seal of
/// `length` bytes, in ns.
func bareSealNanoseconds(length: Int = 1_400) -> Double {
    var key = [UInt8](repeating: 7, count: 32)
    var nonce = [UInt8](repeating: 0, count: 12)
    var text = [UInt8](repeating: 1, count: length)
    var tag = [UInt8](repeating: 0, count: 16)
    var tagLength: UInt64 = 0
    let ns = nanosecondsPerOperation(iterations: 100_000) {
        nonce[0] &+= 1
        _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
            &text,
            &tag,
            &tagLength,
            text,
            UInt64(length),
            nil,
            0,
            nil,
            nonce,
            key
        )
    }
    key[0] = 0
    return ns
}

/// Keeps a value alive so the optimiser cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) {}

/// `SDWAN_BENCH_SCALE=0.01` shrinks every benchmark's iteration count (for profiling under
/// callgrind, where everything runs ~50× slower).
let benchmarkScale: Double = {
    guard let text = getenv("SDWAN_BENCH_SCALE").map({ String(cString: $0) }), let value = Double(text) else {
        return 1
    }
    return value
}()

/// An IPv4/UDP packet of `size` bytes (DSCP 0, payload 0x5A) from `source` to `destination` port
/// `port`; `roomy` leaves the headroom and tailroom the I/O ring leaves, so the engine builds the
/// datagram around the packet in place.
func udpPacket(size: Int, source: UInt32, destination: UInt32, port: UInt16, roomy: Bool = false) -> ByteBuffer {
    let room = roomy ? TunnelEngine.headroom + TunnelEngine.tailroom : 0
    var b = ByteBufferAllocator().buffer(capacity: size + room)
    if roomy {
        b.moveWriterIndex(forwardBy: TunnelEngine.headroom)
        b.moveReaderIndex(forwardBy: TunnelEngine.headroom)
    }
    b.writeMultipleIntegers(UInt8(0x45), UInt8(0), UInt16(size), UInt16(0), UInt16(0x4000))
    b.writeMultipleIntegers(UInt8(64), UInt8(17), UInt16(0), source, destination)
    b.writeMultipleIntegers(UInt16(40_000), port, UInt16(size - 20), UInt16(0))
    b.writeRepeatingByte(0x5A, count: size - 28)
    return b
}
