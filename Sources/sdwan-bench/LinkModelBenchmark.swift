import SDWANCore
import SDWANLinkModel
import SDWANSimulator

/// The cost of one packet through a realistic link model (the simulator's budget is ≤ 1 µs per
/// simulated packet for everything, issue 8), against one generator draw.
let linkModelBenchmark = Benchmark(
    name: "linkmodel",
    summary: "LinkDirectionModel.offer on an LTE-like direction (exponential jitter, Gilbert loss, rate) vs one draw"
) {
    let parameters = LinkDirectionParameters(
        baseDelay: .milliseconds(27),
        jitter: .exponential(mean: .milliseconds(8)),
        loss: .gilbert(lossRatio: 0.01, meanBurst: 3),
        rate: RateLimit(bitsPerSecond: 12_000_000, queueLimit: .bytes(75_000)),
        mtu: 1500
    )
    var model = LinkDirectionModel(parameters)
    var random = SeededRandomSource(seed: 1)
    var now = Instant.zero
    var delivered: Int64 = 0
    // 1000-byte packets every 1 ms: 8 Mbit/s offered to 12 Mbit/s, so the queue stays short.
    let offer = nanosecondsPerOperation(iterations: 1_000_000) {
        now += .milliseconds(1)
        if case .deliver(let at) = model.offer(size: 1000, at: now, using: &random) { delivered &+= at.nanoseconds }
    }
    var sink: UInt64 = 0
    let draw = nanosecondsPerOperation(iterations: 1_000_000) { sink &+= random.next() }
    blackHole((delivered, sink))
    report(
        "LinkDirectionModel.offer",
        subject: offer,
        baseline: draw,
        goal: "≤ 250 ns: a quarter of the 1 µs per-packet budget"
    )
}

/// Schedule + pop of one event with 1000 pending (a busy simulation), against one draw.
let eventQueueBenchmark = Benchmark(
    name: "eventqueue",
    summary: "EventQueue schedule + popNext with 1000 events pending vs one draw"
) {
    var queue = EventQueue<Int>()
    var random = SeededRandomSource(seed: 2)
    for i in 0..<1000 { queue.schedule(i, at: Instant(nanoseconds: Int64(random.next() % 1_000_000))) }
    var now = Instant.zero
    var sink = 0
    let cost = nanosecondsPerOperation(iterations: 1_000_000) {
        guard let (at, event) = queue.popNext() else { return }
        now = at
        sink &+= event
        queue.schedule(event, at: now + TimeSpan(nanoseconds: Int64(random.next() % 1_000_000)))
    }
    var draws: UInt64 = 0
    let draw = nanosecondsPerOperation(iterations: 1_000_000) { draws &+= random.next() }
    blackHole((sink, draws))
    report(
        "EventQueue schedule+pop",
        subject: cost,
        baseline: draw,
        goal: "≤ 200 ns: a fifth of the 1 µs per-packet budget"
    )
}
