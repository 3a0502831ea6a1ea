import SDWANConfig
import SDWANCore
import SDWANWANEmulator
import Testing

/// The timeline's degrade and rebind on a live relay, and the `wanem:` block of a scenario file.
@Suite(.serialized) struct RelayTimelineTests {
    @Test func degradeAppliesForItsDurationThenTheTopologyValuesReturn() async throws {
        // 5 ms base delay; from 800 ms to 1200 ms the delay is 60 ms. The degrade starts late enough
        // that a sender slowed by a loaded machine still has packets before it.
        let timeline = try Timeline.parse(
            "- { at: 800ms, link: l0, action: degrade, duration: 400ms, delay: 60ms }",
            file: "t.yaml"
        )
        let (arrivals, origin, lateness) = try await RelayHarness.with(
            links: """
                      - name: l0
                        kind: other
                        delay: 5ms
                """,
            timeline: timeline
        ) { h in
            try await h.send(link: 0, count: 2_000, rate: 1_000)
            try await h.settle()
            let timing = try await h.emulator.stats().timing
            return (
                try await h.arrivalsAtHub(), h.emulator.origin, TimeSpan.microseconds(Int64(timing.maxMicroseconds))
            )
        }
        #expect(arrivals.count == 2_000)
        // A packet's delay is the model's delay at the instant the relay offered it (its verdict)
        // plus e ≥ 0: the sender's and receiver's scheduling and the relay's lateness. On a loaded
        // 2-core machine e has no useful upper bound for a single packet (one once took > 25 ms),
        // so each packet is judged only by what e ≥ 0 makes certain, and the upper bounds are on
        // medians, which a degrade that stuck, came early or doubled still breaks.
        // The relay offered a packet at o ∈ [sent, received − 5 ms]. The degrade is a timer on
        // the relay's event loop, applied λ late; a stall that delays it delays the deliveries due
        // then too (one is due every 1 ms at this rate), so λ ≤ the relay's measured maximum
        // lateness + 1 ms. A packet sent at or after 800 ms + λ that arrived before 1205 ms was
        // offered inside the degrade and must carry the 60 ms (its end, also late, only widens it);
        // one sent at or after 1200 ms was offered after the degrade and carries ≥ 5 ms.
        let ms = { (t: Instant) in (t - origin).milliseconds }
        let start = 800 + (lateness + .milliseconds(1)).milliseconds
        let inWindow = arrivals.filter { ms($0.sent) >= start && ms($0.received) < 1_205 }
        let before = arrivals.filter { ms($0.sent) < 775 }.map { ($0.received - $0.sent).milliseconds }
        let during = inWindow.map { ($0.received - $0.sent).milliseconds }
        let after = arrivals.filter { ms($0.sent) >= 1_200 }.map { ($0.received - $0.sent).milliseconds }
        // At 1 packet/ms, the 340 packets sent in [800, 1140) arrive before 1205 ms unless delayed
        // by more than 5 ms beyond the 60 ms; most of them must be in the window (unless the relay
        // stalled for a large part of it, which its lateness shows).
        print("degrade: relay's maximum lateness \(lateness.milliseconds) ms, window from \(start) ms")
        #expect(before.count > 300 && after.count > 300)
        #expect(during.count > 170 || start > 900)
        #expect(before.allSatisfy { $0 >= 5 } && after.allSatisfy { $0 >= 5 })
        #expect(
            during.allSatisfy { $0 >= 60 },
            "degrade missing for packets offered inside it: \(during.filter { $0 < 60 })"
        )
        // The 25 ms timing allowance of RelayModelStatisticsTests (its p99), on the median.
        func median(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.sorted()[xs.count / 2] }
        print(
            "degrade: median delay before \(median(before)) ms, during \(median(during)) ms, after \(median(after)) ms;",
            "max \(before.max() ?? 0) / \(during.max() ?? 0) / \(after.max() ?? 0) ms"
        )
        #expect(median(before) < 30 && median(after) < 30)
        #expect(median(during) < 85)
    }

    @Test func timelineRebindMovesTheSourcePortMidRun() async throws {
        // The rebind comes 800 ms after the emulator starts and the sender runs for 2 s, so a sender
        // that a loaded machine starts late still has packets on both sides of it (checked below:
        // without packets before the rebind the test would see no change and prove nothing).
        let timeline = try Timeline.parse("- { at: 800ms, link: l0, action: rebind }", file: "t.yaml")
        let (arrivals, origin) = try await RelayHarness.with(
            links: """
                      - name: l0
                        kind: other
                """,
            timeline: timeline
        ) { h in
            try await h.send(link: 0, count: 2_000, rate: 1_000)
            try await h.settle()
            return (try await h.arrivalsAtHub(), h.emulator.origin)
        }
        #expect(arrivals.contains { $0.sent < origin + .milliseconds(775) })
        #expect(arrivals.contains { $0.sent > origin + .milliseconds(825) })
        let ports = arrivals.sorted { $0.seq < $1.seq }.map(\.source.port)
        // Exactly one change of source port, and no packet lost across it.
        let changes = zip(ports, ports.dropFirst()).filter { $0 != $1 }.count
        #expect(changes == 1)
        #expect(arrivals.count == 2_000)
    }

    @Test func wanemBlockOfAScenarioFileIsDecodedWithPositions() throws {
        let document = try ConfigDocument.parse(
            """
            wanem:
              hub: 127.0.0.1:51820
              listen: 127.0.0.1:41000
              hub-facing: 127.0.0.2
              control: "[::1]:39000"
              branch: store-12
              seed: 9
            timeline: []
            """,
            file: "s.yaml"
        )
        let settings = try WANEmulatorFileSettings.decode(document: document)
        #expect(settings.hub == UDPEndpoint("127.0.0.1:51820"))
        #expect(settings.listen == UDPEndpoint("127.0.0.1:41000"))
        #expect(settings.hubFacing == IPAddress("127.0.0.2"))
        #expect(settings.control == UDPEndpoint("[::1]:39000"))
        #expect(settings.branch == "store-12" && settings.seed == 9)

        let bad: [(String, String)] = [
            ("wanem: { control: 0.0.0.0:39999 }", "s.yaml:1:19: wanem.control: the control socket must be on loopback"),
            ("wanem: { hub: localhost }", "s.yaml:1:15: wanem.hub: `localhost` is not an address and port"),
            ("wanem: { hubb: 127.0.0.1:1 }", "wanem.hubb: unknown field `hubb`; expected `hub`?"),
        ]
        for (text, message) in bad {
            do {
                _ = try WANEmulatorFileSettings.decode(document: ConfigDocument.parse(text, file: "s.yaml"))
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
    }
}
