import NIOCore
import SDWANCore
import Testing

/// Live reconfiguration of the pure core (`TunnelEngine.apply`, `HubEndpoint` branch table): what
/// a SIGHUP does to a running tunnel, in virtual time.
@Suite struct ReloadTests {
    static let sla = ServiceLevel(maxLossRatio: 0.05, maxRTT: .milliseconds(300))
    /// `pinned` (EF) may only use link `b`; `default` takes the rest.
    static let pinned = TrafficClass(name: "pinned", sla: sla, allowedLinks: ["b"])
    static let standard = TrafficClass(name: "default", sla: sla)
    static let rules = [ClassRule(classIndex: 0, dscp: [46])]
    static let ef: UInt8 = 46

    static func configuration(
        links: [EngineLinkConfiguration],
        classes: [TrafficClass] = [pinned, standard]
    ) -> EngineConfiguration {
        EngineConfiguration(links: links, classes: classes, classRules: rules, defaultClassIndex: 1)
    }

    static func at(_ milliseconds: Int64) -> Instant { .zero + .milliseconds(milliseconds) }

    /// Sends one packet of each class each way every 10 ms from 2 s to 6 s, running `reload` at
    /// 3 s; returns the ids sent per class.
    static func traffic(_ pair: ReloadPair, reload: () -> Void) -> Int {
        pair.run(until: at(2_000))
        var id: UInt32 = 0
        var reloaded = false
        pair.run(until: at(6_000), every: .milliseconds(10)) { now in
            guard now < at(5_000) else { return }
            if now >= at(3_000) && !reloaded {
                reloaded = true
                reload()
            }
            pair.sendUp(edge: 0, id: id, dscp: ef)
            pair.sendUp(edge: 0, id: id, dscp: 0)
            pair.sendDown(edge: 0, id: id, dscp: ef)
            pair.sendDown(edge: 0, id: id, dscp: 0)
            id += 1
        }
        return Int(id)
    }

    static func ids(_ list: [(classIndex: Int, id: UInt32)], _ c: Int) -> Set<UInt32> {
        Set(list.filter { $0.classIndex == c }.map(\.id))
    }

    @Test func reloadThatRemovesAndAddsLinksKeepsTheSessionAndLosesNothingOnAnUntouchedClass() throws {
        let a = ReloadPair.link(1, "a")
        let b = ReloadPair.link(2, "b", tier: 2)
        let c = ReloadPair.link(3, "c")
        let pair = ReloadPair(seed: 11, edgeConfigurations: [Self.configuration(links: [a, b])])
        let edge = pair.edges[0]
        var change = EngineConfigurationChange()
        var defaultBefore: [Int] = []
        let sent = Self.traffic(pair) {
            defaultBefore = edge.choice(forClass: 1).links
            change = edge.apply(Self.configuration(links: [b, c]), now: pair.now)
            pair.drainEdge(0)
        }
        #expect(defaultBefore == [1])
        #expect(change.linksRemoved == [1] && change.linksAdded == [3] && change.linksChanged.isEmpty)
        #expect(change.classesChanged.isEmpty && change.classesAdded.isEmpty && !change.rulesChanged)
        // No new handshake: the first one is the only one at either end.
        #expect(pair.handshakes(edge: 0) == 1)
        #expect(pair.hubSessionEvents.count == 1)
        #expect(edge.linkIDs == [2, 3])
        let hubEngine = try #require(pair.hub.engine(forBranch: "branch0"))
        #expect(hubEngine.linkIDs.sorted() == [2, 3])
        // The added link came up and, being tier 1, carries the default class; the removed one's
        // traffic moved at once.
        #expect(edge.linkStatus(3) == .up)
        #expect(edge.choice(forClass: 1).links == [3])
        #expect(hubEngine.choice(forClass: 1).links == [3])
        // `pinned` never touched a changed link: nothing lost either way.
        let all = Set(0..<UInt32(sent))
        #expect(Self.ids(pair.deliveredAtHub, 0) == all)
        #expect(Self.ids(pair.deliveredAtEdge[0], 0) == all)
        // The default class upstream re-selected inside `apply`: nothing lost. Downstream the hub
        // keeps sending on the removed link until the edge's announcement arrives one delay d later;
        // what it sent in [reload − d, reload + d] is lost: ≤ 2 · d · rate + 1 = 2 · 10 ms · 100/s + 1.
        #expect(Self.ids(pair.deliveredAtHub, 1) == all)
        let lostDown = all.subtracting(Self.ids(pair.deliveredAtEdge[0], 1)).count
        #expect(lostDown <= 3)
    }

    @Test func classTableChangeKeepsUnchangedClassesAndCarriesCountersByName() throws {
        let a = ReloadPair.link(1, "a")
        let b = ReloadPair.link(2, "b", tier: 2)
        let before = Self.configuration(links: [a, b])
        let pair = ReloadPair(seed: 12, edgeConfigurations: [before])
        let edge = pair.edges[0]
        var stricter = Self.pinned
        stricter.sla.maxRTT = .milliseconds(150)
        let extra = TrafficClass(name: "extra", sla: Self.sla)
        let after = Self.configuration(links: [a, b], classes: [stricter, Self.standard, extra])
        var edgeChange = EngineConfigurationChange()
        var hubChange: EngineConfigurationChange?
        var sentBefore: (pinned: UInt64, standard: UInt64) = (0, 0)
        let sent = Self.traffic(pair) {
            sentBefore = (edge.counters(forClass: 0).sent, edge.counters(forClass: 1).sent)
            edgeChange = edge.apply(after, now: pair.now)
            pair.drainEdge(0)
            var hubSide = after
            hubSide.links = []
            let branch = pair.hub.branchConfiguration(named: "branch0")!
            hubChange = pair.hub.updateBranch(
                HubBranchConfiguration(
                    name: branch.name,
                    publicKey: branch.publicKey,
                    allowedPrefixes: branch.allowedPrefixes,
                    engine: hubSide
                ),
                presharedKey: PresharedKey.none(),
                now: pair.now
            )
            pair.drainHub()
        }
        #expect(edgeChange.classesChanged == ["pinned"] && edgeChange.classesAdded == ["extra"])
        #expect(edgeChange.classesRemoved.isEmpty && !edgeChange.rulesChanged && edgeChange.linksChanged.isEmpty)
        #expect(hubChange?.classesChanged == ["pinned"] && hubChange?.classesAdded == ["extra"])
        #expect(pair.handshakes(edge: 0) == 1)
        #expect(pair.hubSessionEvents.count == 1)
        // Counters continue across the swap (one packet per class per 10 ms tick): the counter
        // before the reload plus what was sent after it is the total.
        #expect(sentBefore.pinned > 0 && edge.counters(forClass: 0).sent == UInt64(sent))
        #expect(edge.counters(forClass: 1).sent == UInt64(sent))
        #expect(edge.counters(forClass: 2).sent == 0)
        // Both classes kept a link up throughout: nothing lost in either direction.
        let all = Set(0..<UInt32(sent))
        for c in 0..<2 {
            #expect(Self.ids(pair.deliveredAtHub, c) == all)
            #expect(Self.ids(pair.deliveredAtEdge[0], c) == all)
        }
        #expect(edge.choice(forClass: 0).links == [2])
    }

    @Test func removedBranchLosesItsSessionsAndTheOthersKeepTheirs() throws {
        let a = ReloadPair.link(1, "a")
        let configuration = Self.configuration(links: [a])
        let pair = ReloadPair(seed: 13, edgeConfigurations: [configuration, configuration])
        pair.run(until: Self.at(2_000))
        #expect(pair.edges.allSatisfy { $0.isEstablished })
        #expect(pair.hub.removeBranch(named: "branch1"))
        #expect(pair.hub.branchNames == ["branch0"])
        let unknownBefore = pair.hub.drops[HubDropReason.unknownReceiverIndex.rawValue]
        var id: UInt32 = 0
        pair.run(until: Self.at(3_000), every: .milliseconds(10)) { now in
            guard now < Self.at(2_900) else { return }
            pair.sendUp(edge: 0, id: id)
            pair.sendUp(edge: 1, id: id)
            id += 1
        }
        // Branch 0 is untouched: every packet arrives, on its first session.
        #expect(Set(pair.deliveredAtHub.map(\.id)) == Set(0..<id))
        #expect(pair.deliveredAtHub.count == Int(id))
        #expect(pair.handshakes(edge: 0) == 1)
        // Branch 1's packets name a receiver index the hub dropped (none was delivered: the count
        // above is branch 0's alone); with no answer its link goes down and its re-handshakes are
        // refused (the responder forgot its key).
        let unknown = pair.hub.drops[HubDropReason.unknownReceiverIndex.rawValue] - unknownBefore
        #expect(unknown > 0)
        #expect(pair.edges[1].linkStatus(1) == .down)
        #expect(pair.hub.engine(forBranch: "branch1") == nil)
    }

    @Test func changedAllowedPrefixesTakeEffectWithoutANewHandshake() throws {
        let pair = ReloadPair(seed: 14, edgeConfigurations: [Self.configuration(links: [ReloadPair.link(1, "a")])])
        pair.run(until: Self.at(2_000))
        let moved = 0x0A63_0005 as UInt32  // 10.99.0.5
        pair.sendUp(edge: 0, id: 1, source: moved)
        pair.run(until: Self.at(2_100))
        #expect(pair.deliveredAtHub.isEmpty)
        #expect(pair.hub.drops[HubDropReason.spoofedSource.rawValue] == 1)
        let branch = try #require(pair.hub.branchConfiguration(named: "branch0"))
        var changed = branch
        changed.allowedPrefixes = [IPPrefix("10.99.0.0/16")!]
        let change = pair.hub.updateBranch(changed, presharedKey: PresharedKey.none(), now: pair.now)
        #expect(change?.isEmpty == true)
        pair.sendUp(edge: 0, id: 2, source: moved)
        pair.sendUp(edge: 0, id: 3)
        pair.run(until: Self.at(2_200))
        #expect(pair.deliveredAtHub.map(\.id) == [2])
        #expect(pair.hub.drops[HubDropReason.spoofedSource.rawValue] == 2)
        #expect(pair.handshakes(edge: 0) == 1)
        // A different key under the same name is not an update.
        var other = changed
        var random = SeededRandomSource(seed: 99)
        other.publicKey = PrivateKey.generate(using: &random).publicKey
        #expect(pair.hub.updateBranch(other, presharedKey: PresharedKey.none(), now: pair.now) == nil)
    }
}

extension ReloadTests {
    @Test func changedLinkKeepsItsMeasurementAndProbeSettingsWaitForARestart() {
        let a = ReloadPair.link(1, "a")
        let b = ReloadPair.link(2, "b", tier: 2)
        let pair = ReloadPair(seed: 15, edgeConfigurations: [Self.configuration(links: [a, b])])
        pair.run(until: Self.at(2_000))
        let edge = pair.edges[0]
        let srtt = edge.linkQuality(1)?.smoothedRTT
        var slower = ReloadPair.link(1, "a", tier: 3)
        slower.monitor.probes.interval = .milliseconds(500)
        let change = edge.apply(Self.configuration(links: [slower, b]), now: pair.now)
        #expect(change.linksChanged == [1] && change.linksProbeSettingsAtRestart == [1])
        #expect(change.linksAdded.isEmpty && change.linksRemoved.isEmpty)
        #expect(edge.linkStatus(1) == .up && edge.linkQuality(1)?.smoothedRTT == srtt)
        #expect(edge.linkConfiguration(1)?.tier == 3)
        #expect(edge.linkConfiguration(1)?.monitor == a.monitor)
        // Tier 3 now: the default class leaves `a` for `b` (tier 2) at once.
        #expect(edge.choice(forClass: 1).links == [2])
        pair.drainEdge(0)
        pair.run(until: Self.at(4_000))
        #expect(edge.linkStatus(1) == .up && edge.linkStatus(2) == .up)
        #expect(pair.handshakes(edge: 0) == 1)
    }
}
