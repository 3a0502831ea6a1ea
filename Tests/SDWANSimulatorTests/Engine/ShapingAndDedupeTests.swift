import NIOCore
import SDWANCore
import SDWANLinkModel
import SDWANSimulator
import Testing

@Suite struct ShapingAndDedupeTests {
    /// A 2 Mbit/s link shaped by sdwan at 1.9 Mbit/s, bulk offered at 4 Mbit/s alongside a voice
    /// call: voice's one-way delay stays within its SLA (RTT ≤ 300 ms, i.e. ≤ 150 ms one way) —
    /// in fact within base delay + one bulk packet's serialization (1 200 B at 1.9 Mbit/s ≈ 5 ms)
    /// + the link's own queue — because the queue builds in sdwan's bulk queue, behind voice.
    @Test func voiceStaysWithinItsSLAWhileBulkSaturatesTheLink() {
        var link = EngineLinkConfiguration(id: 0, name: "dsl", shapedUpBitsPerSecond: 1_900_000)
        link.cost = 1
        let model = NetworkFixture.link(delayMs: 15, rate: 2_000_000)
        let fixture = NetworkFixture(seed: 30, links: [(link, model, NetworkFixture.link(delayMs: 15))])
        let network = fixture.network
        network.start()
        network.run(until: .zero + .seconds(2))
        var voiceDelays: [TimeSpan] = []
        var sentAt: [UInt32: Instant] = [:]
        network.onDelivery = { branch, delivery, now in
            guard branch == nil, let id = NetworkFixture.id(of: delivery.packet), id >= 1_000_000,
                let sent = sentAt[id]
            else { return }
            voiceDelays.append(now - sent)
        }
        // Bulk: 1 200 B every 2.4 ms = 4 Mbit/s; voice: 200 B every 20 ms.
        let start = Instant.zero + .seconds(2)
        for i in 0..<2_500 { network.simulation.schedule(.action(i), at: start + .microseconds(Int64(i) * 2_400)) }
        for i in 0..<300 {
            network.simulation.schedule(.action(1_000_000 + i), at: start + .milliseconds(Int64(i) * 20))
        }
        network.run(until: start + .seconds(8)) { id, now in
            if id >= 1_000_000 {
                sentAt[UInt32(id)] = now
                network.sendFromEdge(0, NetworkFixture.packet(branch: 0, id: UInt32(id), dscp: DSCP.ef, payload: 172))
            } else {
                network.sendFromEdge(
                    0,
                    NetworkFixture.packet(branch: 0, id: UInt32(id), dscp: DSCP.af11, payload: 1_172)
                )
            }
        }
        #expect(voiceDelays.count == 300)
        let worst = voiceDelays.max() ?? .zero
        print("voice under bulk: worst one-way delay \(worst.milliseconds) ms over \(voiceDelays.count) packets")
        #expect(worst <= .milliseconds(150))
        #expect(worst <= .milliseconds(15 + 6 + 10))
        // Bulk really was over capacity: the shaper dropped some of it.
        #expect(network.edges[0].shaperDrops(0)![TrafficPriority.bulk.rawValue] > 0)
    }

    /// 10^7 sequences arriving with local reordering (adjacent pairs swapped every 64), and every
    /// 7th one replayed 50 positions later (inside the window): every first copy is new, every
    /// replay a duplicate, a sequence older than the window is refused; memory is fixed at
    /// construction (size/8 bytes) however many packets pass.
    @Test func dedupeOverTenMillionPacketsInConstantMemory() {
        var window = DedupeWindow(size: 65_536)
        let size = window.size
        var newCount = 0
        var duplicates = 0
        var replays = 0
        let n: UInt64 = 10_000_000
        var sequence: UInt64 = 0
        while sequence < n {
            let swap = sequence % 64 == 0 && sequence + 1 < n
            let order = swap ? [sequence + 1, sequence] : [sequence]
            for s in order {
                if window.accept(s) == .new { newCount += 1 }
                if s >= 50 && (s - 50) % 7 == 0 {
                    replays += 1
                    if window.accept(s - 50) == .duplicate { duplicates += 1 }
                }
            }
            sequence += swap ? 2 : 1
        }
        #expect(newCount == Int(n))
        #expect(duplicates == replays)
        #expect(window.size == size)
        #expect(window.accept(window.newest - size) == .tooOld)
        #expect(window.accept(window.newest - size + 1) == .duplicate)
    }
}

@Suite struct DedupeRestartTests {
    /// A restarted sender starts a new sequence space far away: the window starts over instead of
    /// refusing everything as old or duplicate, and stragglers of the old space are refused.
    @Test func aRestartedSendersNewSequenceSpaceIsAccepted() {
        var window = DedupeWindow(size: 4_096)
        let old: UInt64 = 1 << 50
        for s in old..<old + 2_000 { #expect(window.accept(s) == .new) }
        // The peer restarts: its sequences start at a random point far below.
        for s: UInt64 in 77..<2_077 { #expect(window.accept(s) == .new) }
        #expect(window.restarts == 1)
        // A straggler of the old space arrives late: refused, and it does not flip the window back.
        #expect(window.accept(old + 1_999) == .tooOld)
        #expect(window.accept(2_077) == .new)
        #expect(window.accept(100) == .duplicate)
    }
}
