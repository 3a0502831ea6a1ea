import Foundation
import NIOCore
import SDWANCore
import SDWANIO
import SDWANNode
import Testing

/// A link or listen socket that SwiftNIO closed underneath the node (as it does on a fatal send
/// error: ENETUNREACH, EADDRNOTAVAIL) is rebuilt and carries traffic again (SocketRebuild.swift).
@Suite(.serialized)
struct LiveSocketRebuildTests {
    /// One link only, so that traffic can come back only through the rebuilt socket.
    static func oneLink(_ hub: HubNode) async throws -> [(name: String, local: String, hub: UDPEndpoint)] {
        [("fiber", "127.0.0.1:0", try #require(try await hub.listenerEndpoint(0).get()))]
    }

    /// Sends at 100/s from just after `close` runs for 6 s; the longest gap in replies after the
    /// close, and the replies received.
    static func gapAfterClosing(_ rig: LiveNodeTests.Rig, _ close: () async throws -> Void) async throws -> TimeSpan {
        #expect(try await rig.established())
        try await rig.client.send(to: rig.forwardPort, count: 20, rate: 200)
        #expect(await eventually(3) { rig.client.received.count >= 20 })
        let closedAt = Clocks.monotonic()
        try await close()
        try await rig.client.send(to: rig.forwardPort, count: 600, rate: 100, firstSeq: 10_000)
        _ = await eventually(1) { rig.client.received.last.map { $0.seq >= 10_590 } ?? false }
        let after = rig.client.received.filter { $0.seq >= 10_000 }.map(\.at).sorted()
        var gap = TimeSpan.zero
        var previous = closedAt
        for at in after {
            gap = max(gap, at - previous)
            previous = at
        }
        print("replies after the close: \(after.count) of 600, longest gap \(gap)")
        // 600 sent over 6 s; a gap under the tests' 4 s bound leaves ≥ 2 s × 100/s = 200 replies,
        // less 25% for loopback drops while the link comes back up: 150.
        #expect(after.count >= 150)
        return gap
    }

    /// The node's /metrics text, from a status server started for the read.
    static func metrics(_ node: EdgeNode) async throws -> String {
        try await read(try await StatusServer.start(for: node, at: UDPEndpoint("127.0.0.1:0")!).get())
    }

    static func metrics(_ node: HubNode) async throws -> String {
        try await read(try await StatusServer.start(for: node, at: UDPEndpoint("127.0.0.1:0")!).get())
    }

    private static func read(_ server: StatusServer) async throws -> String {
        let text = await Task.detached { try StatusClient.get("/metrics", from: server.localEndpoint) }.result
        try? await server.close().get()
        return try text.get()
    }

    @Test func linkSocketClosedUnderneathIsRebuiltAndCarriesTrafficAgain() async throws {
        try await LiveNodeTests.Rig.run(edgeLinks: Self.oneLink) { rig in
            let gap = try await Self.gapAfterClosing(rig) {
                let channel = try #require(try await rig.edge.linkChannel(0).get())
                try await channel.close()
            }
            // The 1 s tick notices the closed channel (≤ 1 s), the first rebuild is due 1 s later and
            // runs on the next tick (≤ 1 s more); the new socket then needs one probe round trip for
            // the hub to learn its port (ms on loopback). 1 s more absorbs a loaded debug build: 4 s.
            #expect(gap < .seconds(4))
            let rebuilt = try await rig.edge.linkChannel(0).get()
            #expect(rebuilt?.isActive == true)
            let text = try await Self.metrics(rig.edge)
            #expect(PrometheusText.parse(text).value("sdwan_link_socket_rebuilds_total", ["link": "fiber"]) == 1)
        }
    }

    /// The edge's forward listen socket closed underneath is rebuilt at the same port (clients
    /// keep sending there), with the links' timing.
    @Test func forwardSocketClosedUnderneathIsRebuiltAtItsPort() async throws {
        try await LiveNodeTests.Rig.run(edgeLinks: Self.oneLink) { rig in
            let gap = try await Self.gapAfterClosing(rig) {
                let channel = try #require(try await rig.edge.forwardChannel(0).get())
                try await channel.close()
            }
            // Detection ≤ 1 s, the rebuild on the tick after (≤ 1 s), slack 2 s: as for links.
            #expect(gap < .seconds(4))
            #expect(try await rig.edge.forwardEndpoint(0).get() == rig.forwardPort)
            let text = try await Self.metrics(rig.edge)
            #expect(PrometheusText.parse(text).value("sdwan_forward_socket_rebuilds_total", ["forward": "echo"]) == 1)
        }
    }

    /// The hub's socket toward a forward's target closed underneath is replaced by the flow's next
    /// packet (a fresh socket, a new source port toward the target): no wait for a tick.
    @Test func hubFlowSocketClosedUnderneathIsReplaced() async throws {
        try await LiveNodeTests.Rig.run(edgeLinks: Self.oneLink) { rig in
            let gap = try await Self.gapAfterClosing(rig) {
                let channels = try await rig.hub.flowChannels().get()
                #expect(channels.count == 1)
                for channel in channels { try await channel.close() }
            }
            // Replaced at the flow's next packet: only what was in flight is lost (10 ms apart).
            #expect(gap < .seconds(1))
            let text = try await Self.metrics(rig.hub)
            #expect(PrometheusText.parse(text).value("sdwan_forward_flow_sockets_replaced_total", [:]) == 1)
        }
    }

    @Test func hubListenerClosedUnderneathIsRebuiltAtItsPort() async throws {
        try await LiveNodeTests.Rig.run(edgeLinks: Self.oneLink) { rig in
            let before = try await rig.hub.listenerEndpoint(0).get()
            let gap = try await Self.gapAfterClosing(rig) {
                let channel = try #require(try await rig.hub.listenerChannel(0).get())
                try await channel.close()
            }
            // The same bound as the edge's link: detection ≤ 1 s, rebuild on the tick after (≤ 1 s),
            // at the same port so the edge's next datagram gets through; slack 2 s.
            #expect(gap < .seconds(4))
            #expect(try await rig.hub.listenerEndpoint(0).get() == before)
            let text = try await Self.metrics(rig.hub)
            let rebuilds = PrometheusText.parse(text).value(
                "sdwan_listen_socket_rebuilds_total",
                ["listen": "127.0.0.1:0"]
            )
            #expect(rebuilds == 1)
        }
    }
}
