import NIOCore
import SDWANCore
import Testing

/// Group layout: interleaving, closing on k or on the delay budget, partial-group overhead.
@Suite struct FECEncoderLayoutTests {
    static func drain(_ encoder: inout FECEncoder) -> [FECEncoder.ParityDescriptor] {
        var out: [FECEncoder.ParityDescriptor] = []
        var buffer = ByteBuffer()
        while let d = encoder.pollParity(into: &buffer) { out.append(d) }
        return out
    }

    @Test func consecutiveSequenceNumbersGoToDifferentGroups() {
        var encoder = FECEncoder(configuration: .init(classID: 1, groupSize: 4, stride: 10))
        let member = ByteBuffer(bytes: [1, 2, 3])
        var closed: [FECEncoder.ParityDescriptor] = []
        for n in 0..<40 {
            let sequence = encoder.protect(member, now: .zero)
            #expect(sequence == UInt32(n))
            closed += Self.drain(&encoder)
        }
        // Group j = {j, j+10, j+20, j+30}; each closes with its 4th member, in order.
        #expect(closed.map(\.baseSequence) == (0..<10).map { UInt32($0) })
        #expect(closed.allSatisfy { $0.count == 4 && $0.stride == 10 })
        #expect(encoder.statistics.groupsClosedFull == 10 && encoder.statistics.packetOverhead == 0.25)
    }

    /// A class at 200 packets/s (four voice calls) with a 20 ms budget cannot fill k = 4 × stride
    /// 10: each group closes when its budget runs out, with whatever members it has, and its cost
    /// (one parity per m members) is counted.
    @Test func groupsCloseWhenTheDelayBudgetRunsOut() {
        let budget = TimeSpan.milliseconds(20)
        var encoder = FECEncoder(configuration: .init(classID: 1, groupSize: 4, stride: 2, delayBudget: budget))
        let member = ByteBuffer(repeating: 7, count: 160)
        var now = Instant.zero
        var descriptors: [FECEncoder.ParityDescriptor] = []
        for _ in 0..<1000 {
            while let deadline = encoder.nextDeadline(), deadline <= now {
                encoder.handleTimeout(now: deadline)
                descriptors += Self.drain(&encoder)
            }
            encoder.protect(member, now: now)
            descriptors += Self.drain(&encoder)
            now += .milliseconds(5)
        }
        encoder.flush(now: now)
        descriptors += Self.drain(&encoder)
        // Every group closed within its budget of its first member.
        #expect(descriptors.allSatisfy { $0.closedAt - $0.openedAt <= budget })
        // 5 ms spacing, stride 2: a slot sees a member every 10 ms, at +0, +10, +20 ms of its
        // group's opening; the budget ends at +20 ms, before that third member, so every group
        // closes by its deadline with 2 members (1000 members → 500 groups of 2).
        let stats = encoder.statistics
        #expect(stats.groupsClosedPartial == 500 && stats.groupsClosedFull == 0 && stats.groupsBySize[2] == 500)
        #expect(stats.groupsBySize.enumerated().reduce(0) { $0 + $1.offset * $1.element } == 1000)
        #expect(stats.parityFrames == descriptors.count)
        #expect(abs(stats.packetOverhead - Double(stats.parityFrames) / 1000) < 1e-12)
        #expect(stats.byteOverhead > stats.packetOverhead)  // each parity also carries 13 bytes of fields
    }

    @Test func reconfigureClosesOpenGroupsAndKeepsTheSequenceSpace() {
        var encoder = FECEncoder(configuration: .init(classID: 1, groupSize: 4, stride: 10))
        for _ in 0..<5 { encoder.protect(ByteBuffer(bytes: [1]), now: .zero) }
        encoder.reconfigure(.init(classID: 1, groupSize: 2, stride: 1), now: .zero)
        #expect(encoder.pendingParityCount == 5)
        #expect(Self.drain(&encoder).allSatisfy { $0.count == 1 })
        let five = encoder.protect(ByteBuffer(bytes: [1]), now: .zero)
        let six = encoder.protect(ByteBuffer(bytes: [1]), now: .zero)
        #expect(five == 5 && six == 6)
        let pair = Self.drain(&encoder)
        #expect(pair.count == 1 && pair[0].baseSequence == 5 && pair[0].count == 2 && pair[0].stride == 1)
    }
}
