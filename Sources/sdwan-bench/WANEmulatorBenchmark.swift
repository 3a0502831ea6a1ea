import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANWANEmulator

/// How close the userspace relay gets: one link with a fixed 20 ms delay, 200-byte packets offered
/// at increasing rates for 1 s each by a paced sender (one batched send per 1 ms tick) on a second
/// event loop, received by a test hub on that loop. Per rate: delivered fraction, end-to-end delay
/// error (arrival − send stamp − 20 ms: both loopback hops, the relay's batch and timer, the
/// receiver's batch) p50/p99/max, and the relay's own lateness (send − the model's instant) p50/p99.
/// "Honest" = nothing lost and delay error p99 ≤ 1 ms.
let wanemBenchmark = Benchmark(
    name: "wanem",
    summary: "WAN emulator relay: delay error p50/p99 and the highest honest packet rate (docs/wanem.md)"
) {
    let rates = [2_000, 5_000, 10_000, 20_000, 40_000, 80_000, 120_000]
    print("rate/s   offered  delivered  e2e-err p50    p99      max   relay-late p50   p99   honest")
    var bestHonest = 0
    for rate in rates {
        guard let row = try? runWANEmulatorLoad(rate: rate, seconds: 1) else {
            print("\(rate): failed to run")
            continue
        }
        let honest = row.delivered == row.offered && row.p99 <= 1_000
        if honest { bestHonest = max(bestHonest, rate) }
        let fields = [
            pad("\(rate)", 8), pad("\(row.offered)", 8), pad("\(row.delivered)", 10),
            pad("\(Int(row.p50)) µs", 12), pad("\(Int(row.p99)) µs", 9), pad("\(Int(row.max)) µs", 9),
            pad("\(Int(row.relayP50)) µs", 15), pad("\(Int(row.relayP99)) µs", 8), honest ? "yes" : "no",
        ]
        print(fields.joined(separator: " "))
    }
    print("highest honest rate in this sweep: \(bestHonest) packets/s")
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

private struct LoadRow {
    var offered: Int
    var delivered: Int
    var p50: Double
    var p99: Double
    var max: Double
    var relayP50: Double
    var relayP99: Double
}

private final class LoadState: @unchecked Sendable {
    var errors: [Double] = []
    var start: Instant?
    var sent = 0
}

private func runWANEmulatorLoad(rate: Int, seconds: Double) throws -> LoadRow {
    let topology = try Topology.parse(
        """
        name: bench
        hub: { name: hub }
        branches:
          - name: b
            links:
              - { name: l0, kind: other, delay: 20ms }
        """,
        file: "<bench>"
    )
    let relayGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let testGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    defer {
        try? testGroup.syncShutdownGracefully()
        try? relayGroup.syncShutdownGracefully()
    }
    let loop = testGroup.next()
    let state = LoadState()
    state.errors.reserveCapacity(Int(Double(rate) * seconds) + 16)
    let loopback = UDPEndpoint("127.0.0.1:0")!
    let base = 20_000_000.0
    let hub = try UDPLinkSocket.open(UDPSocketConfiguration(local: loopback, batchSize: 64), on: loop) { batch in
        let now = Clocks.monotonic()
        for datagram in batch {
            guard let sent = datagram.data.getInteger(at: datagram.data.readerIndex, as: Int64.self) else { continue }
            state.errors.append((Double(now.nanoseconds - sent) - base) / 1e3)
        }
    }.wait()
    let edge = try UDPLinkSocket.open(UDPSocketConfiguration(local: loopback, batchSize: 64), on: loop) { _ in }
        .wait()
    let relayLoop = relayGroup.next()
    let emulator = try relayLoop.makeFutureWithTask {
        try await WANEmulator.start(
            topology: topology,
            configuration: WANEmulatorConfiguration(hub: hub.localEndpoint, listen: loopback, batchSize: 64),
            on: relayLoop
        )
    }.wait()
    let target = try relayLoop.makeFutureWithTask { try await emulator.edgeFacingEndpoint(link: 0) }.wait()!
    let count = Int(Double(rate) * seconds)
    let done = loop.makePromise(of: Void.self)
    let allocator = ByteBufferAllocator()
    loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { task in
        let now = Clocks.monotonic()
        if state.start == nil { state.start = now }
        let due = min(count, Int((now - state.start!).seconds * Double(rate)) + 1)
        var datagrams: [OutgoingDatagram] = []
        datagrams.reserveCapacity(due - state.sent)
        while state.sent < due {
            var buffer = allocator.buffer(capacity: 200)
            buffer.writeInteger(now.nanoseconds)
            buffer.writeRepeatingByte(0, count: 192)
            datagrams.append(OutgoingDatagram(data: buffer, destination: target))
            state.sent += 1
        }
        edge.send(datagrams)
        if state.sent >= count {
            task.cancel()
            done.succeed()
        }
    }
    try done.futureResult.wait()
    // Let the last packets cross the 20 ms delay (bounded wait).
    for _ in 0..<50 {
        let received = try loop.submit { state.errors.count }.wait()
        if received >= count { break }
        usleep(10_000)
    }
    let stats = try relayLoop.makeFutureWithTask { try await emulator.stop() }.wait()
    try edge.close().wait()
    try hub.close().wait()
    let errors = try loop.submit { state.errors.sorted() }.wait()
    func q(_ p: Double) -> Double {
        errors.isEmpty ? .nan : errors[min(errors.count - 1, Int((p * Double(errors.count)).rounded(.up)) - 1)]
    }
    return LoadRow(
        offered: count,
        delivered: errors.count,
        p50: q(0.5),
        p99: q(0.99),
        max: errors.last ?? .nan,
        relayP50: stats.timing.p50Microseconds,
        relayP99: stats.timing.p99Microseconds
    )
}
