import NIOCore
import SDWANCore
import Testing

/// Handshake lifecycle in virtual time (docs/crypto.md "Lifecycle"): hitless rekey, reject-after,
/// retries, and recovery after a hub restart. Two links whose one-way delays differ by 200 ms.
@Suite struct LifecycleTests {
    static let twoLinks: [UInt8: TimeSpan] = [0: .milliseconds(10), 1: .milliseconds(210)]

    /// ≥ 100 rekeys with traffic both ways on a random link per packet, one handshake response
    /// lost and one initiation duplicated by the network: every inner packet arrives exactly once.
    @Test func hundredRekeysWithTrafficBothWaysLoseAndDuplicateNothing() {
        let pair = SessionPair(linkDelays: Self.twoLinks, seed: 7)
        pair.handshakeFilter = { kind, n in
            if kind == .response && n == 10 { return .drop }
            if kind == .initiation && n == 30 { return .duplicate }
            return .deliver
        }
        pair.trafficInterval = .milliseconds(50)
        pair.establish()
        let end = Instant.zero + .seconds(101 * 120 + 30)
        pair.run(until: end, trafficUntil: end - .seconds(5))
        let rekeys = pair.edgeEvents.filter { if case .rekeyed = $0.1 { true } else { false } }.count
        let hubRekeys = pair.hubEvents.filter { if case .rekeyed = $0.1 { true } else { false } }.count
        #expect(rekeys >= 100)
        #expect(hubRekeys == rekeys)
        #expect(pair.sealFailures == 0)
        #expect(pair.edgeSent > 200_000 && pair.hubSent > 200_000)
        // Zero lost, zero duplicated, both directions.
        #expect(pair.hubReceived.count == pair.edgeSent)
        #expect(pair.hubReceived.values.allSatisfy { $0 == 1 })
        #expect(pair.edgeReceived.count == pair.hubSent)
        #expect(pair.edgeReceived.values.allSatisfy { $0 == 1 })
        // The lost response was retried (one more initiation round, two copies each), the network
        // duplicate was refused without a DH, and so was every copy on the second link.
        #expect(pair.handshakeCounts[.initiation] == 2 * (rekeys + 2))
        #expect(pair.responder.drops[.duplicateInitiation] == UInt64(rekeys + 3))
        #expect(pair.responder.drops.total == pair.responder.drops[.duplicateInitiation])
        #expect(pair.edge.drops.total == 0)
    }

    /// The previous keys open packets until 180 s after they were made, never after.
    @Test func previousKeysAcceptedUntilRejectAfterThenRefused() throws {
        let pair = SessionPair(linkDelays: Self.twoLinks, seed: 8)
        pair.establish()
        let firstIndex = try #require(pair.branch.localIndices.first)
        let created = pair.now
        var early = pair.dataPacket(seq: 1)
        var late = pair.dataPacket(seq: 2)
        _ = pair.edge.seal(&early, linkID: 0, now: pair.now)
        _ = pair.edge.seal(&late, linkID: 0, now: pair.now)
        pair.run(until: created + .seconds(179))
        #expect(pair.edgeEvents.contains { if case .rekeyed = $0.1 { true } else { false } })
        #expect(pair.hubIndex[firstIndex] != nil, "the previous session is still mapped before 180 s")
        pair.deliver(.init(arrival: pair.now, order: 0, toHub: true, link: 0, kind: nil, datagram: early))
        #expect(pair.hubReceived[1] == 1)
        pair.run(until: created + .seconds(181))
        #expect(pair.hubIndex[firstIndex] == nil, "retired at reject-after")
        pair.deliver(.init(arrival: pair.now, order: 0, toHub: true, link: 0, kind: nil, datagram: late))
        #expect(pair.hubReceived[2] == nil)
    }

    /// Retries follow the documented schedule: 1, 2, 4, 5, 5 s, each plus up to 333 ms of jitter.
    @Test func lostResponsesAreRetriedOnTheBackoffSchedule() {
        let pair = SessionPair(linkDelays: Self.twoLinks, seed: 9)
        pair.handshakeFilter = { kind, n in kind == .response && n < 5 ? .drop : .deliver }
        pair.establish()
        pair.run(until: .zero + .seconds(30))
        let rounds = stride(from: 0, to: pair.initiationTimes.count, by: 2).map { pair.initiationTimes[$0] }
        #expect(rounds.count == 6)
        let bases: [Int64] = [1, 2, 4, 5, 5]
        for (i, base) in bases.enumerated() where i + 1 < rounds.count {
            let gap = rounds[i + 1] - rounds[i]
            #expect(gap >= .seconds(base) && gap <= .seconds(base) + .milliseconds(333), "retry \(i): \(gap)")
        }
        #expect(pair.edge.isEstablished && pair.branch.isEstablished)
    }

    /// After a hub restart (all responder state lost) the edge's packets are refused, the engine
    /// reports all links silent, the edge re-handshakes at once, and traffic flows both ways again
    /// within 1 s of the hub's first answer.
    @Test func tunnelBackWithinOneSecondOfHubAnsweringAfterRestart() throws {
        let pair = SessionPair(linkDelays: Self.twoLinks, seed: 10)
        pair.trafficInterval = .milliseconds(20)
        pair.silenceThreshold = .milliseconds(500)
        pair.establish()
        let restart = Instant.zero + .seconds(30)
        pair.run(until: restart)
        pair.restartHub()
        pair.run(until: restart + .seconds(10))
        let answer = try #require(pair.responsesSent.first { $0 > restart })
        let hubBack = try #require(pair.firstHubDelivery.first { $0 > answer })
        let edgeBack = try #require(pair.firstEdgeDelivery.first { $0 > answer })
        #expect(hubBack - answer < .seconds(1))
        #expect(edgeBack - answer < .seconds(1))
        #expect(answer - restart < .seconds(2), "silence detected and handshake sent promptly")
        #expect(pair.silentSignals >= 1)
    }
}
