import SDWANCore
import Testing

@Suite struct PathSelectorTests {
    static func link(
        _ index: Int,
        _ name: String,
        tier: Int = 1,
        cost: Int = 1,
        status: LinkCandidate.Status = .up,
        rttMs: Int64,
        loss: Double = 0,
        jitterMs: Int64 = 2,
        r: Double = 90
    ) -> LinkCandidate {
        LinkCandidate(
            index: index,
            name: name,
            tier: tier,
            cost: cost,
            status: status,
            measurement: LinkMeasurement(
                rtt: .milliseconds(rttMs),
                jitter: .milliseconds(jitterMs),
                lossRatio: loss,
                rFactor: r
            )
        )
    }

    static let voice = TrafficClass(
        name: "voice",
        sla: ServiceLevel(
            maxLossRatio: 0.01,
            maxRTT: .milliseconds(300),
            maxJitter: .milliseconds(30),
            minRFactorToEnter: 80,
            minRFactorToStay: 70
        ),
        priority: .realtime
    )

    /// MPLS (tier 1), broadband (tier 1), LTE (tier 2, metered).
    static func branch(mpls: LinkCandidate.Status = .up, broadbandLoss: Double = 0) -> [LinkCandidate] {
        [
            link(0, "mpls", rttMs: 40),
            link(1, "broadband", rttMs: 25, loss: broadbandLoss),
            link(2, "lte", tier: 2, cost: 10, rttMs: 60),
        ].map {
            var l = $0
            if l.index == 0 { l.status = mpls }
            return l
        }
    }

    @Test func bestPicksLowestLatencyInTheBestTierAndLeavesMeteredBackupIdle() {
        var selector = PathSelector(trafficClass: Self.voice)
        selector.select(from: Self.branch(), now: .zero)
        #expect(selector.choice == PathChoice(links: [1], reason: .slaMet))
        selector.select(from: Self.branch(broadbandLoss: 0.05), now: .zero + .seconds(1))
        #expect(selector.choice.links == [0])
        // With both primaries gone, the metered LTE carries voice.
        var links = Self.branch(mpls: .down, broadbandLoss: 0.05)
        links[1].status = .down
        selector.select(from: links, now: .zero + .seconds(2))
        #expect(selector.choice == PathChoice(links: [2], reason: .slaMet))
    }

    @Test func bulkNeverUsesAnExcludedLinkAndHoldsWhenAllowedLinksAreDown() {
        let bulk = TrafficClass(
            name: "bulk",
            sla: ServiceLevel(),
            allowedLinks: ["mpls", "broadband"],
            priority: .bulk
        )
        var selector = PathSelector(trafficClass: bulk)
        var links = Self.branch(mpls: .down)
        links[1].status = .down
        selector.select(from: links, now: .zero)
        #expect(selector.choice == PathChoice(links: [], reason: .noLinkUp))
    }

    @Test func leastBadLinkCarriesTheClassWhenNoneMeetsTheSLA() {
        var selector = PathSelector(trafficClass: Self.voice)
        let links = [
            Self.link(0, "mpls", rttMs: 40, loss: 0.08),
            Self.link(1, "broadband", rttMs: 25, loss: 0.03),
        ]
        selector.select(from: links, now: .zero)
        #expect(selector.choice == PathChoice(links: [1], reason: .leastBad))
        #expect(selector.leastBadSelections == 1)
    }

    @Test func duplicateUsesTheTwoBestLinks() {
        var pos = Self.voice
        pos.mode = .duplicate(copies: 2)
        var selector = PathSelector(trafficClass: pos)
        selector.select(from: Self.branch(), now: .zero)
        #expect(selector.choice.links == [1, 0])
        // One primary down: the copy goes to LTE rather than nowhere.
        selector.select(from: Self.branch(mpls: .down), now: .zero + .seconds(1))
        #expect(selector.choice.links == [1, 2])
    }

    @Test func rFactorHysteresisKeepsCurrentLinkBetween70And80() {
        var selector = PathSelector(trafficClass: Self.voice)
        selector.select(
            from: [Self.link(0, "mpls", rttMs: 40, r: 85), Self.link(1, "lte", tier: 2, rttMs: 60, r: 90)],
            now: .zero
        )
        #expect(selector.choice.links == [0])
        // R drops to 75: below the entry bar, above the stay bar: keep it.
        selector.select(
            from: [Self.link(0, "mpls", rttMs: 40, r: 75), Self.link(1, "lte", tier: 2, rttMs: 60, r: 90)],
            now: .zero + .seconds(1)
        )
        #expect(selector.choice.links == [0])
        // Below 70: steer away.
        selector.select(
            from: [Self.link(0, "mpls", rttMs: 40, r: 65), Self.link(1, "lte", tier: 2, rttMs: 60, r: 90)],
            now: .zero + .seconds(2)
        )
        #expect(selector.choice.links == [1])
        // Back at 75 the class does not return (75 < 80 entry).
        selector.select(
            from: [Self.link(0, "mpls", rttMs: 40, r: 75), Self.link(1, "lte", tier: 2, rttMs: 60, r: 90)],
            now: .zero + .seconds(3)
        )
        #expect(selector.choice.links == [1])
    }

    @Test func flapDampingNeedsAMarginAndLimitsSwitchesPerMinute() {
        var cls = Self.voice
        cls.switchMargin = .milliseconds(10)
        cls.maxSwitchesPerMinute = 2
        var selector = PathSelector(trafficClass: cls)
        selector.select(from: [Self.link(0, "a", rttMs: 30), Self.link(1, "b", rttMs: 35)], now: .zero)
        #expect(selector.choice.links == [0])
        // b becomes 5 ms better: under the margin, stay.
        selector.select(from: [Self.link(0, "a", rttMs: 30), Self.link(1, "b", rttMs: 25)], now: .zero + .seconds(1))
        #expect(selector.choice.links == [0])
        // Alternate by 20 ms every second: only two voluntary switches within the minute.
        var primaries: [Int] = []
        for second in 2..<30 {
            let aFast = second % 2 == 0
            let links = [Self.link(0, "a", rttMs: aFast ? 20 : 40), Self.link(1, "b", rttMs: aFast ? 40 : 20)]
            selector.select(from: links, now: .zero + .seconds(Int64(second)))
            primaries.append(selector.choice.links[0])
        }
        let switches = zip(primaries, primaries.dropFirst()).filter { $0 != $1 }.count + (primaries[0] != 0 ? 1 : 0)
        #expect(switches == 2)
    }

    @Test func forcedSwitchAwayFromADownLinkIgnoresTheBudget() {
        var cls = Self.voice
        cls.maxSwitchesPerMinute = 0
        var selector = PathSelector(trafficClass: cls)
        selector.select(from: Self.branch(), now: .zero)
        var links = Self.branch()
        links[1].status = .down
        selector.select(from: links, now: .zero + .milliseconds(1))
        #expect(selector.choice.links == [0])
    }
}

@Suite struct DefaultClassTests {
    @Test func defaultTableMapsDSCPToTheDocumentedClasses() {
        let classifier = DefaultClasses.classifier
        let expectations: [(UInt8, String)] = [
            (DSCP.ef, "voice"), (DSCP.af41, "video"), (DSCP.af21, "transactional"), (DSCP.af11, "bulk"),
            (DSCP.cs1, "bulk"), (0, "default"), (DSCP.af13, "bulk"), (DSCP.af43, "video"),
        ]
        for (dscp, name) in expectations {
            let header = InnerPacketHeader.parse(InnerPackets.ipv4(dscp: dscp))!
            #expect(DefaultClasses.classes[classifier.classify(header)].name == name, "DSCP \(dscp)")
        }
    }

    /// REFERENCE.md: voice steers in at R ≥ 80 and away below 70.
    @Test func voiceSLAUsesTheReferenceRFactorThresholds() {
        let sla = DefaultClasses.voice.sla
        let at = { (r: Double) in
            LinkMeasurement(rtt: .milliseconds(40), jitter: .milliseconds(2), lossRatio: 0, rFactor: r)
        }
        #expect(sla.isMet(by: at(80), current: false))
        #expect(!sla.isMet(by: at(79.9), current: false))
        #expect(sla.isMet(by: at(70), current: true))
        #expect(!sla.isMet(by: at(69.9), current: true))
    }

    @Test func bulkNeverTakesAMeteredLink() {
        var selector = PathSelector(trafficClass: DefaultClasses.bulk)
        var lte = PathSelectorTests.link(2, "lte", tier: 2, rttMs: 60)
        lte.metered = true
        var mpls = PathSelectorTests.link(0, "mpls", rttMs: 40)
        mpls.status = .down
        selector.select(from: [mpls, lte], now: .zero)
        #expect(selector.choice == PathChoice(links: [], reason: .noLinkUp))
    }
}
