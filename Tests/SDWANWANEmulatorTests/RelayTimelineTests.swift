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
        let (arrivals, origin) = try await RelayHarness.with(
            links: """
                      - name: l0
                        kind: other
                        delay: 5ms
                """,
            timeline: timeline
        ) { h in
            try await h.send(link: 0, count: 2_000, rate: 1_000)
            try await h.settle()
            return (try await h.arrivalsAtHub(), h.emulator.origin)
        }
        #expect(arrivals.count == 2_000)
        // Away from the edges by the 25 ms timing allowance of RelayModelStatisticsTests, a packet's
        // delay is the base in force plus e ∈ [0, 25 ms).
        func delays(_ from: Int64, _ to: Int64) -> [Double] {
            arrivals.filter { $0.sent > origin + .milliseconds(from) && $0.sent < origin + .milliseconds(to) }
                .map { ($0.received - $0.sent).milliseconds }
        }
        let before = delays(0, 775)
        let during = delays(825, 1_175)
        let after = delays(1_225 + 60, 2_000)
        #expect(!before.isEmpty && !during.isEmpty && !after.isEmpty)
        #expect(before.allSatisfy { $0 >= 5 && $0 < 30 })
        #expect(during.allSatisfy { $0 >= 60 && $0 < 85 })
        #expect(after.allSatisfy { $0 >= 5 && $0 < 30 })
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
