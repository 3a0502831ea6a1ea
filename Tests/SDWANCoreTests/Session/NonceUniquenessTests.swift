import NIOCore
import SDWANCore
import Testing

/// No (key, nonce) pair is ever used twice (docs/wire-format.md §3): many links, rekeys, and a
/// link removed and rebuilt with the same id mid-session.
@Suite struct NonceUniquenessTests {
    @Test func noKeyNoncePairRepeatsAcrossLinksRekeysAndARebuiltLink() {
        var delays: [UInt8: TimeSpan] = [:]
        for link in UInt8(0)..<8 { delays[link] = .milliseconds(5 + 30 * Int64(link)) }
        let pair = SessionPair(linkDelays: delays, seed: 71)
        pair.trafficInterval = .milliseconds(40)
        pair.establish()
        pair.run(until: .zero + .seconds(500))
        // Link 3 goes away (socket closed) and comes back with the same id: counters go on.
        pair.edge.setLinks([0, 1, 2, 4, 5, 6, 7])
        pair.run(until: .zero + .seconds(560))
        pair.edge.setLinks(Array(UInt8(0)..<8))
        pair.run(until: .zero + .seconds(1_000), trafficUntil: .zero + .seconds(999))
        struct Use: Hashable {
            var key: UInt64
            var link: UInt8
            var counter: UInt64
        }
        let uses = pair.sealed.map { Use(key: $0.keyID, link: $0.link, counter: $0.counter) }
        let rekeys = pair.edgeEvents.filter { if case .rekeyed = $0.1 { true } else { false } }.count
        #expect(rekeys >= 8)
        #expect(Set(pair.sealed.map(\.keyID)).count >= 2 * (rekeys + 1), "one key per direction per session")
        #expect(uses.count > 40_000)
        #expect(Set(uses).count == uses.count)
        #expect(pair.hubReceived.count == pair.edgeSent)
    }
}
