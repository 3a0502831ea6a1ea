import NIOCore
import SDWANCore
import SDWANLinkModel
import Testing

/// Parity placement (SLA, MTU, delay bound, cross-link preference), the recovered-member wait
/// over links with different delays, and the adaptive controller.
@Suite struct FECPlacementAndAdaptationTests {
    static func link(
        _ id: UInt8,
        ms: Int64,
        loss: Double = 0.01,
        budget: Int = 1400,
        sla: Bool = true
    )
        -> ParityLinkEstimate
    {
        ParityLinkEstimate(
            linkID: id,
            oneWayDelay: .milliseconds(ms),
            lossRatio: loss,
            frameBudget: budget,
            meetsLatencySLA: sla
        )
    }

    @Test func parityPrefersAnotherLinkThanItsData() {
        let links = [Self.link(0, ms: 20), Self.link(1, ms: 30, loss: 0.02), Self.link(2, ms: 25, loss: 0.02)]
        let decision = ParityPlacement.choose(
            dataLinks: [0],
            links: links,
            groupClosingTime: .milliseconds(10),
            latencyBudget: .milliseconds(150),
            parityFrameLength: 1000
        )
        // Links 1 and 2 tie on loss; 2 is faster. Wait = 10 + (25 − 20) ms.
        #expect(decision == .link(2, recoveryWait: .milliseconds(15)))
    }

    @Test func aLinkThatBreaksTheSLAOrTheBudgetOrTheMTUIsNotUsed() {
        let closing = TimeSpan.milliseconds(10)
        // Link 1 misses its SLA, link 2 is too small for the parity, link 3 is too slow:
        // 20 + 10 + (150 − 20) = 160 ms > 150 ms. Only the data link itself is left.
        let links = [
            Self.link(0, ms: 20), Self.link(1, ms: 21, sla: false), Self.link(2, ms: 22, budget: 999),
            Self.link(3, ms: 150),
        ]
        let decision = ParityPlacement.choose(
            dataLinks: [0],
            links: links,
            groupClosingTime: closing,
            latencyBudget: .milliseconds(150),
            parityFrameLength: 1000
        )
        #expect(decision == .link(0, recoveryWait: closing))
        let none = ParityPlacement.choose(
            dataLinks: [0],
            links: Array(links.dropFirst()),
            groupClosingTime: closing,
            latencyBudget: .milliseconds(150),
            parityFrameLength: 1000
        )
        #expect(none == .none(.wouldBreakLatencyBudget))
        let nothingFits = ParityPlacement.choose(
            dataLinks: [0],
            links: [Self.link(0, ms: 20, budget: 500)],
            groupClosingTime: closing,
            latencyBudget: .milliseconds(150),
            parityFrameLength: 1000
        )
        #expect(nothingFits == .none(.parityDoesNotFit))
    }

    @Test func mtuBudgetLeavesRoomForTheParityFields() {
        // 1500-byte IPv6 path: 1500 − 48 − 36 = 1416 bytes of frames; a parity frame adds 13.
        let budget = FECLayout.frameBudget(linkMTU: 1500, outerHeaderLength: WireFormat.outerIPv6UDPLength)
        #expect(budget == 1416)
        let longest = FECLayout.maxMemberLength(frameBudget: budget)
        #expect(longest == 1403)
        #expect(ParityFrame.frameLength(longestMember: longest) == budget)
        #expect(ParityFrame.frameLength(longestMember: longest + 1) > budget)
    }

    @Test func strideShrinksSoGroupsFillWithinTheBudget() {
        #expect(FECLayout.stride(packetsPerSecond: 100_000, budget: .milliseconds(5), groupSize: 4) == 10)
        // Four voice calls (200 pps), 20 ms: 4 packets per budget, k = 4 → stride 1.
        #expect(FECLayout.stride(packetsPerSecond: 200, budget: .milliseconds(20), groupSize: 4) == 1)
        #expect(FECLayout.stride(packetsPerSecond: 1000, budget: .milliseconds(20), groupSize: 4) == 5)
        #expect(FECLayout.stride(packetsPerSecond: 0, budget: .milliseconds(20), groupSize: 4) == 1)
    }

    /// Data on a 20 ms link, parity on a 35 ms (then a 5 ms) link, 1 ms spacing, k = 4, stride 2,
    /// FEC budget 10 ms, 5 % random data loss. Each recovered member's wait beyond its own link's
    /// delay must be at most its group's closing time (from the member's send) + max(0, d_p − d_d),
    /// and so at most budget + max(0, d_p − d_d).
    @Test(arguments: [Int64(35), 5])
    func recoveredMemberWaitStaysWithinTheBound(parityDelayMs: Int64) {
        let dataDelay = TimeSpan.milliseconds(20)
        let parityDelay = TimeSpan.milliseconds(parityDelayMs)
        let budget = TimeSpan.milliseconds(10)
        var encoder = FECEncoder(configuration: .init(classID: 1, groupSize: 4, stride: 2, delayBudget: budget))
        var decoder = FECDecoder(configuration: .init(classID: 1))
        var random = SeededRandomSource(seed: 41)
        var loss = LossProcess(model: .bernoulli(p: 0.05))
        // Arrivals: (time, order, sequence or parity frame).
        var arrivals: [(at: Instant, order: Int, member: UInt32?, parity: ByteBuffer?)] = []
        var sentAt: [Instant] = []
        var closedAt: [UInt32: Instant] = [:]
        func drain(_ now: Instant) {
            var frame = ByteBuffer()
            while let d = encoder.pollParity(into: &frame) {
                for i in 0..<d.count { closedAt[d.baseSequence + UInt32(i * d.stride)] = d.closedAt }
                let body = frame.getSlice(at: frame.readerIndex + 3, length: frame.readableBytes - 3)!
                arrivals.append((now + parityDelay, arrivals.count, nil, body))
                frame = ByteBuffer()
            }
        }
        for n in 0..<20_000 {
            let now = Instant.zero + .milliseconds(Int64(n))
            if let deadline = encoder.nextDeadline(), deadline <= now {
                encoder.handleTimeout(now: deadline)
                drain(deadline)
            }
            let member = ByteBuffer(integer: UInt32(n))
            let s = encoder.protect(member, now: now)
            sentAt.append(now)
            if !loss.drops(at: now, using: &random) { arrivals.append((now + dataDelay, arrivals.count, s, nil)) }
            drain(now)
        }
        encoder.flush(now: .zero + .seconds(20))
        drain(.zero + .seconds(20))
        arrivals.sort { ($0.at, $0.order) < ($1.at, $1.order) }
        var recovered = 0
        for a in arrivals {
            if let s = a.member {
                _ = decoder.receiveMember(sequence: s, payload: ByteBuffer(integer: s), now: a.at)
            } else if let body = a.parity {
                decoder.receiveParityFrame(body, now: a.at)
            }
            while let r = decoder.pollRecovered() {
                recovered += 1
                let s = Int(r.sequence)
                let wait = r.recoveredAt - (sentAt[s] + dataDelay)
                let bound = ParityPlacement.recoveryWait(
                    groupClosingTime: closedAt[r.sequence]! - sentAt[s],
                    dataDelay: dataDelay,
                    parityDelay: parityDelay
                )
                #expect(wait <= bound, "member \(s) waited \(wait), bound \(bound)")
                #expect(wait <= budget + max(.zero, parityDelay - dataDelay))
                #expect(r.payload == ByteBuffer(integer: r.sequence))
            }
        }
        // 5 % of 20 000 lost, most recovered (p_res ≈ 0.9 % at k = 4 with partial groups fewer).
        #expect(recovered > 700)
    }

    @Test func residualFormulaMatchesTheReferenceTable() {
        // REFERENCE.md, "XOR FEC": k = 4 → 0.039 %, 0.155 %, 0.93 %, 3.44 % at 1, 2, 5, 10 %.
        let table: [(Double, Double)] = [(0.01, 0.000_39), (0.02, 0.001_55), (0.05, 0.009_3), (0.10, 0.034_4)]
        for (p, expected) in table {
            #expect(abs(FECController.residualLoss(p: p, groupSize: 4) - expected) < expected * 0.02)
        }
    }

    @Test func adaptiveGroupSizeRisesAtOnceAndFallsAfterTheQuietPeriod() {
        // Target 0.1 %, cap 50 %. At 5 % no k meets it (k = 2 leaves 0.49 %), so the most the cap
        // allows: k = 2. At 0.5 %, k = 10 leaves 0.005·(1 − 0.995^10) = 0.024 %: the largest k
        // offered, so k = 10. At 0.05 % the loss alone meets the target: off.
        var controller = FECController(configuration: .init(residualTarget: 0.001, quietPeriod: .seconds(30)))
        var now = Instant.zero
        var setting = controller.update(lossRatio: 0.0005, congestion: false, now: now)
        #expect(setting == .off)
        now += .seconds(1)
        setting = controller.update(lossRatio: 0.05, congestion: false, now: now)
        #expect(setting == .on(groupSize: 2), "on fast: the first estimate above target")
        let quiet = controller.desiredSetting(lossRatio: 0.005)
        guard case .on(let kQuiet) = quiet else {
            Issue.record("0.5 % loss must want FEC at a 0.1 % target")
            return
        }
        #expect(kQuiet == 10 && FECController.residualLoss(p: 0.005, groupSize: kQuiet) <= 0.001)
        // Loss steps down to 0.5 %, then 0.05 %: nothing changes before 30 s of it.
        for second in 2...31 {
            now = .zero + .seconds(Int64(second))
            setting = controller.update(lossRatio: 0.005, congestion: false, now: now)
            #expect(setting == .on(groupSize: 2), "second \(second)")
        }
        now = .zero + .seconds(32)
        setting = controller.update(lossRatio: 0.005, congestion: false, now: now)
        #expect(setting == .on(groupSize: kQuiet))
        for second in 33...62 {
            setting = controller.update(lossRatio: 0.0005, congestion: false, now: .zero + .seconds(Int64(second)))
            #expect(setting == .on(groupSize: kQuiet))
        }
        setting = controller.update(lossRatio: 0.0005, congestion: false, now: .zero + .seconds(63))
        #expect(setting == .off)
        // A single spike inside a quiet period restarts it.
        setting = controller.update(lossRatio: 0.05, congestion: false, now: .zero + .seconds(64))
        #expect(setting == .on(groupSize: 2))
    }

    @Test func selfInflictedLossNeverRaisesRedundancy() {
        var controller = FECController()
        for second in 0..<120 {
            let setting = controller.update(lossRatio: 0.05, congestion: true, now: .zero + .seconds(Int64(second)))
            #expect(setting == .off)
        }
        // Real (non-congestion) loss turns it on; congestion loss then cannot push k lower.
        var setting = controller.update(lossRatio: 0.005, congestion: false, now: .zero + .seconds(200))
        guard case .on(let k) = setting else {
            Issue.record("0.5 % random loss must turn FEC on")
            return
        }
        setting = controller.update(lossRatio: 0.10, congestion: true, now: .zero + .seconds(201))
        #expect(setting == .on(groupSize: k))
    }

    @Test func overheadCapLimitsRedundancy() {
        let controller = FECController(configuration: .init(residualTarget: 0.0001, overheadCap: 0.25))
        // At 5 % no allowed k meets 0.01 %; the cap (1/k ≤ 25 %) leaves k = 4 as the most redundancy.
        #expect(controller.desiredSetting(lossRatio: 0.05) == .on(groupSize: 4))
    }
}

/// When no link meets the class's SLA (10 % loss everywhere: R < rStay on every link) the class
/// rides its least-bad link, and parity must still go — on another link when there is one, on the
/// data link itself when it is the only one — rather than FEC switching off when loss is highest.
@Suite struct ParityPlacementLeastBadTests {
    @Test func parityStillGoesWhenNoLinkMeetsTheSLA() {
        let closing = TimeSpan.milliseconds(20)
        let links = [
            FECPlacementAndAdaptationTests.link(0, ms: 20, loss: 0.10, sla: false),
            FECPlacementAndAdaptationTests.link(1, ms: 30, loss: 0.10, sla: false),
        ]
        let other = ParityPlacement.choose(
            dataLinks: [0],
            links: links,
            groupClosingTime: closing,
            latencyBudget: .milliseconds(150),
            parityFrameLength: 1000
        )
        // Wait = 20 + (30 − 20) ms.
        #expect(other == .link(1, recoveryWait: .milliseconds(30)))
        let alone = ParityPlacement.choose(
            dataLinks: [0],
            links: [links[0]],
            groupClosingTime: closing,
            latencyBudget: .milliseconds(150),
            parityFrameLength: 1000
        )
        #expect(alone == .link(0, recoveryWait: closing))
        // The other rules still hold in the least-bad case.
        let tooBig = ParityPlacement.choose(
            dataLinks: [0],
            links: links,
            groupClosingTime: closing,
            latencyBudget: .milliseconds(150),
            parityFrameLength: 1401
        )
        #expect(tooBig == .none(.parityDoesNotFit))
        let none = ParityPlacement.choose(
            dataLinks: [0],
            links: [],
            groupClosingTime: closing,
            latencyBudget: .milliseconds(150),
            parityFrameLength: 1000
        )
        #expect(none == .none(.noLinkMeetsSLA))
    }

    @Test func aLinkMissingTheSLAIsStillSkippedWhileAnotherMeetsIt() {
        let links = [
            FECPlacementAndAdaptationTests.link(0, ms: 20),
            FECPlacementAndAdaptationTests.link(1, ms: 10, loss: 0.0, sla: false),
        ]
        let decision = ParityPlacement.choose(
            dataLinks: [0],
            links: links,
            groupClosingTime: .milliseconds(10),
            latencyBudget: .milliseconds(150),
            parityFrameLength: 1000
        )
        #expect(decision == .link(0, recoveryWait: .milliseconds(10)))
    }
}
