import CSodium
import SDWANCore

/// The seeded generator the simulator draws from, against a bare `randombytes_buf` call per 8 bytes.
let randomSourceBenchmark = Benchmark(
    name: "random",
    summary: "SeededRandomSource.next() vs randombytes_buf(8 bytes)"
) {
    var seeded = SeededRandomSource(seed: 1)
    var sink: UInt64 = 0
    let ours = nanosecondsPerOperation(iterations: 1_000_000) { sink &+= seeded.next() }
    _ = sodium_init()
    var value: UInt64 = 0
    let bare = nanosecondsPerOperation(iterations: 1_000_000) {
        randombytes_buf(&value, 8)
        sink &+= value
    }
    blackHole(sink)
    report("SeededRandomSource.next", subject: ours, baseline: bare, goal: "≤ 1×: the simulator draws often")
}
