import NIOCore
import SDWANCore
import Testing

@Suite struct FlowReorderTests {
    static func packet(_ tag: UInt32) -> ByteBuffer {
        var b = ByteBufferAllocator().buffer(capacity: 4)
        b.writeInteger(tag)
        return b
    }

    /// Flow B loses its packet 1; flow A's packets, interleaved with B's, are delivered at once:
    /// a loss in one flow adds zero hold to another.
    @Test func aLossInOneFlowAddsNoHoldToAnother() {
        var reorder = FlowReorder()
        var delivered: [(UInt32, Instant)] = []
        let record = { (p: ByteBuffer, _: Bool) in delivered.append((p.getInteger(at: 0)!, .zero)) }
        for s: UInt32 in 0..<10 {
            let now = Instant.zero + .milliseconds(Int64(s))
            var got: [UInt32] = []
            reorder.receive(flowID: 1, sequence: s, packet: Self.packet(100 + s), recovered: false, now: now) { p, _ in
                got.append(p.getInteger(at: 0)!)
            }
            #expect(got == [100 + s], "flow A packet \(s) waited")
            if s != 1 {
                reorder.receive(
                    flowID: 2,
                    sequence: s,
                    packet: Self.packet(200 + s),
                    recovered: false,
                    now: now,
                    deliver: record
                )
            }
        }
        // B: 0 delivered, 2…9 held behind the lost 1.
        #expect(delivered.map(\.0) == [200])
        #expect(reorder.heldCount == 8)
        #expect(reorder.nextDeadline(hold: .milliseconds(30)) == Instant.zero + TimeSpan.milliseconds(2 + 30))
        reorder.handleTimeout(now: .zero + .milliseconds(32), hold: .milliseconds(30), deliver: record)
        #expect(delivered.map(\.0) == [200] + (2..<10).map { 200 + $0 })
        #expect(reorder.counters.holdTimeouts == 1)
        // The lost packet turning up late is delivered (class default) and counted.
        reorder.receive(
            flowID: 2,
            sequence: 1,
            packet: Self.packet(201),
            recovered: false,
            now: .zero + .seconds(1),
            deliver: record
        )
        #expect(delivered.last?.0 == 201 && reorder.counters.late == 1)
    }

    @Test func outOfOrderArrivalsLeaveInOrder() {
        var reorder = FlowReorder()
        var out: [UInt32] = []
        for s: UInt32 in [0, 2, 1, 4, 3, 5] {
            reorder.receive(flowID: 7, sequence: s, packet: Self.packet(s), recovered: false, now: .zero) { p, _ in
                out.append(p.getInteger(at: 0)!)
            }
        }
        #expect(out == [0, 1, 2, 3, 4, 5])
        #expect(reorder.heldCount == 0)
    }

    /// Under heavy loss the held total never exceeds its bound.
    @Test func memoryStaysBoundedUnderLoss() {
        var reorder = FlowReorder(maxHeld: 64)
        var random = SeededRandomSource(seed: 3)
        var peak = 0
        for s in 0..<100_000 {
            let flow = UInt16(s % 50)
            guard random.nextUnitDouble() > 0.05 else { continue }
            reorder.receive(
                flowID: flow,
                sequence: UInt32(s / 50),
                packet: Self.packet(0),
                recovered: false,
                now: .zero
            ) { _, _ in }
            peak = max(peak, reorder.heldCount)
        }
        #expect(peak <= 64)
        #expect(reorder.counters.forcedReleases > 0)
    }

    @Test func lateDropClassesDropAndCount() {
        var reorder = FlowReorder(deliverLate: false)
        var out = 0
        for s: UInt32 in [0, 2] {
            reorder.receive(flowID: 1, sequence: s, packet: Self.packet(s), recovered: false, now: .zero) { _, _ in
                out += 1
            }
        }
        reorder.handleTimeout(now: .zero + .seconds(1), hold: .milliseconds(10)) { _, _ in out += 1 }
        reorder.receive(flowID: 1, sequence: 1, packet: Self.packet(1), recovered: false, now: .zero + .seconds(2)) {
            _,
            _ in out += 1
        }
        #expect(out == 2)
        #expect(reorder.counters.lateDropped == 1)
    }
}
