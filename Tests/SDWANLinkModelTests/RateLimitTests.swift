import Foundation
import SDWANCore
import SDWANLinkModel
import Testing

/// The rate limiter against queueing theory: deterministic overload (exact counts), M/D/1 waiting
/// time (Pollaczek–Khinchine), and byte-limited queues.
@Suite struct RateLimitTests {
    /// 1500 B at 12 Mbit/s: exactly 1 ms of serialization per packet.
    static let oneMillisecondPacket = RateLimit(bitsPerSecond: 12_000_000, queueLimit: .packets(50))

    @Test func serializationTimeIsSizeTimesEightOverRate() {
        #expect(Self.oneMillisecondPacket.serializationTime(bytes: 1500) == .milliseconds(1))
        #expect(
            RateLimit(bitsPerSecond: 1_000_000, queueLimit: .unlimited).serializationTime(bytes: 125)
                == .milliseconds(1)
        )
    }

    /// Offered 2 packets/ms to a 1 packet/ms bottleneck with a 50-packet queue for 10 s. The
    /// bottleneck is busy from t = 0 without a pause, so every accepted packet departs 1 ms after
    /// the previous one; the last packet (t = 10 s − 0.5 ms) finds the queue full and the last
    /// accepted one departs ≈ 50 ms after 10 s. Hence 10 000 + 50 accepted (± 1 for the edge), the
    /// rest (≈ 1 − μ/λ = 50 %) congestion drops, throughput exactly the rate, and a steady-state
    /// queueing delay between (50 − 1) ms and 50 ms.
    @Test func deterministicOverloadDropsTheExcessAndQueuesToTheLimit() {
        var model = LinkDirectionModel(.init(rate: Self.oneMillisecondPacket))
        var random = SeededRandomSource(seed: 1)
        var deliveries: [Instant] = []
        var lastQueueingDelay = TimeSpan.zero
        let offered = 20_000
        for i in 0..<offered {
            let sent = Instant.zero + .microseconds(Int64(i) * 500)
            if case .deliver(let at) = model.offer(size: 1500, at: sent, using: &random) {
                deliveries.append(at)
                lastQueueingDelay = at - sent - .milliseconds(1)
            }
        }
        let c = model.counters
        #expect(abs(Int(c.passed) - 10_050) <= 1, "passed \(c.passed)")
        #expect(c.dropped.congestion == UInt64(offered) - c.passed)
        #expect(c.dropped.total == c.dropped.congestion)
        // Back-to-back departures: consecutive deliveries exactly 1 ms apart.
        #expect(zip(deliveries, deliveries.dropFirst()).allSatisfy { $1 - $0 == .milliseconds(1) })
        #expect(lastQueueingDelay >= .milliseconds(49) && lastQueueingDelay <= .milliseconds(50))
    }

    /// A byte limit of 15 000 B is ten 1500-B packets: under the same overload the queueing delay
    /// never exceeds limit·8/rate = 10 ms and reaches at least 9 ms.
    @Test func byteLimitBoundsQueueingDelayAtLimitOverRate() {
        let rate = RateLimit(bitsPerSecond: 12_000_000, queueLimit: .bytes(15_000))
        var model = LinkDirectionModel(.init(rate: rate))
        var random = SeededRandomSource(seed: 1)
        var maxWait = TimeSpan.zero
        for i in 0..<10_000 {
            let sent = Instant.zero + .microseconds(Int64(i) * 500)
            if case .deliver(let at) = model.offer(size: 1500, at: sent, using: &random) {
                maxWait = max(maxWait, at - sent - .milliseconds(1))
            }
        }
        #expect(maxWait <= .milliseconds(10))
        #expect(maxWait >= .milliseconds(9))
        #expect(model.counters.dropped.congestion > 4_000)
    }

    /// M/D/1 at ρ = 0.5: Poisson arrivals λ = 500/s, service D = 1 ms, unbounded queue.
    /// Pollaczek–Khinchine: mean wait W_q = ρD/(2(1 − ρ)) = 0.5 ms; P(wait = 0) = 1 − ρ = 0.5
    /// (PASTA). Waits are autocorrelated, so the SE is from 40 batch means of 5 000 packets (10 s
    /// each, far longer than the queue's relaxation time of a few ms); band 4 SE. The SE itself
    /// must be small (< 5 % of W_q) or the test would be vacuous. Throughput equals the offered
    /// load (nothing is dropped).
    @Test func poissonArrivalsSeeThePollaczekKhinchineMeanWait() {
        let rate = RateLimit(bitsPerSecond: 12_000_000, queueLimit: .unlimited)
        var model = LinkDirectionModel(.init(rate: rate))
        var random = SeededRandomSource(seed: 2)
        var arrivals = SeededRandomSource(seed: 3)
        let batches = 40
        let perBatch = 5_000
        var batchMeans = Moments()
        var batchIdle = Moments()
        var t = 0.0
        for _ in 0..<batches {
            var waitSum = 0.0
            var idle = 0
            for _ in 0..<perBatch {
                t += -Foundation.log(1 - arrivals.nextUnitDouble()) / 500
                let sent = Instant(nanoseconds: Int64(t * 1e9))
                guard case .deliver(let at) = model.offer(size: 1500, at: sent, using: &random) else {
                    Issue.record("dropped with an unbounded queue")
                    return
                }
                let wait = (at - sent - .milliseconds(1)).milliseconds
                waitSum += wait
                if wait <= 0 { idle += 1 }
            }
            batchMeans.add(waitSum / Double(perBatch))
            batchIdle.add(Double(idle) / Double(perBatch))
        }
        let wq = 0.5 * 1.0 / (2 * 0.5)
        let se = batchMeans.standardDeviation / Double(batches).squareRoot()
        #expect(se < 0.05 * wq)
        #expect(abs(batchMeans.average - wq) < 4 * se, "mean wait \(batchMeans.average) ms, SE \(se)")
        let seIdle = batchIdle.standardDeviation / Double(batches).squareRoot()
        #expect(abs(batchIdle.average - 0.5) < 4 * seIdle, "P(no wait) \(batchIdle.average), SE \(seIdle)")
        #expect(model.counters.passed == UInt64(batches * perBatch))
        #expect(model.counters.queued > 0)
    }

    /// Overriding the rate mid-run keeps what is queued and applies the new rate to new packets.
    @Test func rateOverrideAppliesToLaterPackets() {
        var model = LinkDirectionModel(.init(rate: Self.oneMillisecondPacket))
        var random = SeededRandomSource(seed: 4)
        let first = model.offer(size: 1500, at: .zero, using: &random)
        #expect(first == .deliver(.zero + .milliseconds(1)))
        model.setRate(RateLimit(bitsPerSecond: 6_000_000, queueLimit: .packets(50)), at: .zero)
        let second = model.offer(size: 1500, at: .zero, using: &random)
        #expect(second == .deliver(.zero + .milliseconds(3)))
    }
}
