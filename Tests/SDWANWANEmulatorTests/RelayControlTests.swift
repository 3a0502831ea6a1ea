import Foundation
import SDWANConfig
import SDWANCore
import SDWANWANEmulator
import Testing

/// Steering a live relay: the timeline's cut and restore, a rebind seen by the far end, the
/// control socket's replies (stats JSON, clear errors). Loopback only; bounded loads.
@Suite(.serialized) struct RelayControlTests {
    /// A cut at t stops traffic within ε: the timeline's timer fires late by the event loop's
    /// wake-up error, and a packet read in a batch is offered at the batch's clock reading. On a
    /// loaded 2-core machine we allow ε = 25 ms (the p99 allowance of the statistics suite).
    static let cutError = TimeSpan.milliseconds(25)

    @Test func timelineCutStopsTrafficWithinTheStatedErrorAndRestoreResumesIt() async throws {
        let cutAt = TimeSpan.milliseconds(500)
        let restoreAt = TimeSpan.milliseconds(900)
        let timeline = Timeline(events: [
            TimelineEvent(at: cutAt, link: "l0", action: .cut),
            TimelineEvent(at: restoreAt, link: "l0", action: .restore),
        ])
        let n = 1_300
        let (arrivals, origin, stats) = try await RelayHarness.with(
            links: """
                      - name: l0
                        kind: other
                """,
            timeline: timeline
        ) { h in
            try await h.send(link: 0, count: n, rate: 1_000)
            try await h.settle()
            return (try await h.arrivalsAtHub(), h.emulator.origin, try await h.emulator.stats())
        }
        let received = Set(arrivals.map(\.seq))
        #expect(stats.links[0].up.model.dropped.cut == UInt64(n - received.count))
        #expect(stats.links[0].up.model.passed == UInt64(received.count))
        let cut = origin + cutAt
        let restore = origin + restoreAt
        // Every packet sent before cut − ε arrived (the link has no other impairment): a missing
        // one with a later arrival sent before cut − ε would be a loss before the cut.
        let lastEarly = arrivals.filter { $0.sent < cut - Self.cutError }.map(\.seq).max() ?? 0
        let missingEarly = (0...lastEarly).filter { !received.contains($0) }
        #expect(missingEarly.isEmpty, "packets lost before the cut: \(missingEarly.prefix(5))")
        // No packet sent inside (cut + ε, restore − ε) arrived.
        let leaked = arrivals.filter { $0.sent > cut + Self.cutError && $0.sent < restore - Self.cutError }
        #expect(leaked.isEmpty, "\(leaked.count) packets passed the cut")
        // Everything sent after restore + ε arrived again.
        let firstLate = arrivals.filter { $0.sent > restore + Self.cutError }.map(\.seq).min() ?? UInt32(n)
        let missingLate = (firstLate..<UInt32(n)).filter { !received.contains($0) }
        #expect(missingLate.isEmpty, "packets lost after the restore: \(missingLate.prefix(5))")
        // The cut was real, and it is the only hole: the missing packets are one contiguous run
        // between the last one through before the cut and the first one back after the restore.
        // (Counting them against 400 = (restore − cut) × 1000/s assumed the sender kept its pace,
        // which a loaded CI machine does not guarantee.)
        // On a starved machine the sender may send nothing during the 400 ms window; then nothing is
        // missing and the model's cut counter (checked above to equal the missing count) is 0 too.
        let missingSeqs = (0..<UInt32(n)).filter { !received.contains($0) }
        if let first = missingSeqs.first, let last = missingSeqs.last {
            #expect(Int(last - first) + 1 == missingSeqs.count, "the missing packets are not one run")
            #expect(first > lastEarly && last < firstLate)
        }
        let lastThrough = arrivals.filter { $0.sent < restore }.map { ($0.sent - cut).milliseconds }.max() ?? 0
        let firstBack =
            arrivals.filter { $0.sent >= cut + Self.cutError }.map { ($0.sent - restore).milliseconds }
            .min() ?? 0
        print(
            "cut: last packet through sent \(lastThrough) ms after t; restore: first back sent \(firstBack) ms after t"
        )
    }

    @Test func rebindChangesTheSourcePortTheHubSeesAndRepliesStillReachTheEdge() async throws {
        try await RelayHarness.with(
            links: """
                      - name: l0
                        kind: other
                """,
            control: true,
            hubEchoes: true
        ) { h in
            try await h.send(link: 0, count: 50, rate: 1_000)
            try await h.settle()
            let before = try await h.arrivalsAtHub()
            let firstPort = try #require(before.first?.source.port)
            #expect(before.allSatisfy { $0.source.port == firstPort })
            // The hub's echo may still be on its way when the relay looks idle (settle only sees
            // what the relay has been given): wait for the replies themselves, bounded.
            #expect(try await h.waitForEdgeArrivals(50))

            let control = try #require(try await h.emulator.controlEndpoint)
            let reply = try ControlClient.send("l0 rebind", to: control)
            #expect(reply.hasPrefix("ok: l0 rebound"), "\(reply)")

            try await h.send(link: 0, count: 50, rate: 1_000, firstSeq: 1_000)
            try await h.settle()
            let after = try await h.arrivalsAtHub().filter { $0.seq >= 1_000 }
            let newPort = try #require(try await h.emulator.hubFacingEndpoint(link: 0)?.port)
            #expect(newPort != firstPort)
            #expect(after.count == 50 && after.allSatisfy { $0.source.port == newPort })
            #expect(try await h.waitForEdgeArrivals(100))
            #expect(try await h.arrivalsAtEdge().filter { $0.seq >= 1_000 }.count == 50)
            let stats = try await h.emulator.stats()
            #expect(stats.links[0].rebinds == 1)
            #expect(stats.links[0].down.model.passed == 100)
            #expect(stats.links[0].down.relay.foreignSource == 0)
        }
    }

    @Test func controlSocketSteersTheLinkAndReportsGroundTruthAsJSON() async throws {
        try await RelayHarness.with(
            links: """
                      - name: l0
                        kind: other
                      - name: l1
                        kind: other
                """,
            control: true
        ) { h in
            let control = try #require(try await h.emulator.controlEndpoint)
            #expect(try ControlClient.send("l1:up down", to: control) == "ok: l1:up down")
            try await h.send(link: 0, count: 40, rate: 1_000)
            try await h.send(link: 1, count: 40, rate: 1_000, firstSeq: 500)
            try await h.settle()
            let arrivals = try await h.arrivalsAtHub()
            #expect(arrivals.filter { $0.link == 0 }.count == 40)
            #expect(arrivals.filter { $0.link == 1 }.isEmpty)

            let json = try ControlClient.send("stats", to: control)
            let stats = try WANEmulatorStats(json: json)
            #expect(stats.links.map(\.name) == ["l0", "l1"])
            #expect(stats.links[0].up.model.passed == 40)
            #expect(stats.links[1].up.cut && !stats.links[1].down.cut)
            #expect(stats.links[1].up.model.dropped.cut == 40)
            #expect(stats.links[1].up.model.offered == 40)

            #expect(try ControlClient.send("l1 reset", to: control) == "ok: l1 reset")
            try await h.send(link: 1, count: 10, rate: 1_000, firstSeq: 900)
            try await h.settle()
            #expect(try await h.arrivalsAtHub().filter { $0.link == 1 }.count == 10)
        }
    }

    @Test(arguments: [
        ("nosuch down", "unknown link `nosuch`; links of branch b: l0"),
        ("l0 explode", "unknown action `explode`"),
        ("l0 loss 150%", "`150%` is not a loss ratio"),
    ])
    func malformedCommandsOverTheSocketGetClearErrors(command: String, message: String) async throws {
        try await RelayHarness.with(
            links: """
                      - name: l0
                        kind: other
                """,
            control: true
        ) { h in
            let control = try #require(try await h.emulator.controlEndpoint)
            let reply = try ControlClient.send(command, to: control)
            #expect(reply.hasPrefix("error: ") && reply.contains(message), "\(reply)")
            // The emulator still serves after an error.
            #expect(try ControlClient.send("l0 up", to: control) == "ok: l0 up")
        }
    }

    @Test func controlAddressMustBeLoopback() async throws {
        let topology = try RelayHarness.topology(
            """
                  - name: l0
                    kind: other
            """
        )
        let group = MultiThreadedEventLoopGroupBox()
        defer { group.shutdown() }
        await #expect(throws: WANEmulatorError.self) {
            _ = try await WANEmulator.start(
                topology: topology,
                configuration: WANEmulatorConfiguration(
                    hub: UDPEndpoint("127.0.0.1:9")!,
                    listen: UDPEndpoint("127.0.0.1:0")!,
                    control: UDPEndpoint("0.0.0.0:0")!
                ),
                on: group.loop
            )
        }
    }
}
