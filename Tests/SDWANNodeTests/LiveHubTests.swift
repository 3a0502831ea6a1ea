import Foundation
import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANNode
import SDWANWANEmulator
import Testing

/// In-process hub with several branches, and the hub's answer to replayed and rebound links.
@Suite(.serialized)
struct LiveHubTests {
    @Test func hubWithThreeEdgesDeliversAndEchoesEveryBranchsTraffic() async throws {
        try await LiveResources.run { resources, group in
            let keys = try resources.keys(edges: 3)
            let echo = try await resources.echo(on: group.next())
            let hub = try await resources.hub(
                LiveConfigs.hub(
                    keys: keys,
                    listen: ["127.0.0.1:0"],
                    targets: [echo.socket.localEndpoint],
                    branchPrefixes: ["10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24"]
                ),
                on: group.next()
            )
            let hubAddress = try #require(try await hub.listenerEndpoint(0).get())
            var edges: [EdgeNode] = []
            var clients: [ForwardClient] = []
            var ports: [UDPEndpoint] = []
            for i in 0..<3 {
                let edge = try await resources.edge(
                    LiveConfigs.edge(
                        keys: keys,
                        index: i,
                        links: [(name: "wan", local: "127.0.0.1:0", hub: hubAddress, extra: "")],
                        innerAddress: "10.\(i + 1).0.1",
                        target: echo.socket.localEndpoint
                    ),
                    on: group.next()
                )
                edges.append(edge)
                clients.append(try await resources.client(on: group.next()))
                ports.append(try #require(try await edge.forwardEndpoint(0).get()))
            }
            for edge in edges {
                let up = try await eventually(5) { try await edge.status().get().tunnels[0].established }
                #expect(up)
            }
            // Each branch numbers its datagrams from its own base: a reply crossing branches shows.
            let count = 150
            let (c0, c1, c2) = (clients[0], clients[1], clients[2])
            let (p0, p1, p2) = (ports[0], ports[1], ports[2])
            async let a: Void = c0.send(to: p0, count: count, rate: 500, firstSeq: 0)
            async let b: Void = c1.send(to: p1, count: count, rate: 500, firstSeq: 10_000)
            async let c: Void = c2.send(to: p2, count: count, rate: 500, firstSeq: 20_000)
            _ = try await (a, b, c)
            let all = await eventually(3) { clients.allSatisfy { $0.received.count >= count } }
            #expect(all)
            for i in 0..<3 {
                let base = UInt32(10_000 * i)
                let seqs = Set(clients[i].received.map(\.seq))
                print("three edges: store\(i) got \(seqs.count) of \(count) replies")
                #expect(seqs == Set((0..<UInt32(count)).map { base + $0 }))
            }
            // Loopback loses nothing and the default class sends one copy: each datagram once.
            #expect(echo.echoed == 3 * count)
            let server = try await StatusServer.start(for: hub, at: UDPEndpoint("127.0.0.1:0")!).get()
            resources.onClose { try? await server.close().get() }
            let status = try await Task.detached { try StatusClient.status(from: server.localEndpoint) }.value
            #expect(status.role == "hub")
            #expect(status.tunnels.map(\.peer) == ["store0", "store1", "store2"])
            #expect(status.tunnels.allSatisfy { $0.established })
            #expect(status.forwardFlows == 3)
            for tunnel in status.tunnels {
                let cls = try #require(tunnel.classes.first { $0.name == "default" })
                // The hub delivered each branch's datagrams to the target and sent each echo back.
                #expect(cls.delivered == UInt64(count))
                #expect(cls.sent == UInt64(count))
            }
            print("three edges: hub /status lists \(status.tunnels.map(\.peer)), \(status.forwardFlows) forward flows")
        }
    }

    /// Edge link → tap (captures) → WAN emulator (rebinds) → hub.
    struct ReplayRig {
        let hub: HubNode
        let edge: EdgeNode
        let echo: EchoTarget
        let client: ForwardClient
        let forwardPort: UDPEndpoint
        let tap: TapRelay
        let emulator: WANEmulator
        let hubAddress: UDPEndpoint

        static func start(_ resources: LiveResources, _ group: MultiThreadedEventLoopGroup) async throws -> ReplayRig {
            let keys = try resources.keys(edges: 1)
            let echo = try await resources.echo(on: group.next())
            let hub = try await resources.hub(
                LiveConfigs.hub(keys: keys, listen: ["127.0.0.1:0"], targets: [echo.socket.localEndpoint]),
                on: group.next()
            )
            let hubAddress = try #require(try await hub.listenerEndpoint(0).get())
            let topology = try Topology.parse(
                """
                name: t
                hub: { name: hub }
                branches:
                  - name: b
                    links:
                      - { name: fiber, kind: other }
                """,
                file: "<test>"
            )
            let emulator = try await WANEmulator.start(
                topology: topology,
                configuration: WANEmulatorConfiguration(hub: hubAddress, listen: UDPEndpoint("127.0.0.1:0")!),
                on: group.next()
            )
            resources.onClose { _ = try? await emulator.stop() }
            let emulatorEdge = try #require(try await emulator.edgeFacingEndpoint(link: 0))
            let tap = try await TapRelay.start(towards: emulatorEdge, on: group.next(), resources: resources)
            let edge = try await resources.edge(
                LiveConfigs.edge(
                    keys: keys,
                    index: 0,
                    links: [(name: "fiber", local: "127.0.0.1:0", hub: tap.edgeFacing.localEndpoint, extra: "")],
                    innerAddress: "10.1.0.1",
                    target: echo.socket.localEndpoint
                ),
                on: group.next()
            )
            let client = try await resources.client(on: group.next())
            return ReplayRig(
                hub: hub,
                edge: edge,
                echo: echo,
                client: client,
                forwardPort: try #require(try await edge.forwardEndpoint(0).get()),
                tap: tap,
                emulator: emulator,
                hubAddress: hubAddress
            )
        }

        /// Where the hub sends the branch's link now.
        func hubDestination() async throws -> String? {
            try await hub.status().get().tunnels[0].links.first?.destination
        }

        func openFailed() async throws -> UInt64 { try await hub.endpointDrops().get()[.openFailed] ?? 0 }
    }

    @Test func replayFromNewAddressDoesNotMoveEndpointButRebindingDoes() async throws {
        try await LiveResources.run { resources, group in
            let rig = try await ReplayRig.start(resources, group)
            let established = try await eventually(5) { try await rig.edge.status().get().tunnels[0].established }
            #expect(established)
            try await rig.client.send(to: rig.forwardPort, count: 50, rate: 500)
            _ = await eventually(2) { rig.client.received.count >= 50 }
            #expect(rig.client.received.count == 50)
            let original = try #require(try await rig.emulator.hubFacingEndpoint(link: 0))
            let before = try await rig.hubDestination()
            #expect(before == "\(original)")

            // Replay: datagrams the link really sent (the hub has opened each already), from a new
            // socket. The session refuses them (replay window), so the endpoint must not move.
            let captured = rig.tap.captured
            #expect(!captured.isEmpty)
            try await Task.sleep(nanoseconds: 100_000_000)  // every captured datagram has arrived
            let dropsBefore = try await rig.openFailed()
            let downBefore = try await rig.emulator.stats().links[0].down.relay.received
            let replayer = try await CountingSocket.start(on: group.next(), resources: resources)
            let replays = captured.map { OutgoingDatagram(data: $0, destination: rig.hubAddress) }
            try await replayer.socket.channel.eventLoop.submit { replayer.socket.send(replays) }.get()
            let counted = try await eventually(2) { try await rig.openFailed() - dropsBefore == UInt64(replays.count) }
            #expect(counted)
            // Probes go out every 100 ms: over 500 ms the hub sends several, all to the original.
            try await Task.sleep(nanoseconds: 500_000_000)
            let afterReplay = try await rig.hubDestination()
            let downAfter = try await rig.emulator.stats().links[0].down.relay.received
            print(
                "replay: \(replays.count) datagrams from \(replayer.socket.localEndpoint) counted as open_failed "
                    + "\(try await rig.openFailed() - dropsBefore); hub still sends to \(afterReplay ?? "-"); "
                    + "\(downAfter - downBefore) datagrams to the original, "
                    + "\(replayer.received(from: rig.hubAddress)) from the hub to the replayer "
                    + "(by source: \(replayer.sources))"
            )
            #expect(afterReplay == "\(original)")
            #expect(replayer.received(from: rig.hubAddress) == 0)
            #expect(downAfter > downBefore)
            // /status reports the same count (`hub_openFailed`, /metrics `sdwan_hub_drops_total`).
            let reported = try await rig.hub.status().get().nodeDrops["hub_openFailed"]
            #expect(reported == (try await rig.openFailed()))

            // A real rebinding mid-transfer: the emulator's hub-facing socket moves to a new port.
            let count = 600
            let rate = 200.0
            async let sending: Void = rig.client.send(
                to: rig.forwardPort,
                count: count,
                rate: rate,
                firstSeq: 1_000
            )
            try await Task.sleep(nanoseconds: 1_000_000_000)
            let drops = try await rig.openFailed()
            let reply = try await rig.emulator.execute("fiber rebind")
            let rebindAt = Clocks.monotonic()
            try await sending
            let fresh = try #require(try await rig.emulator.hubFacingEndpoint(link: 0))
            _ = await eventually(2) { rig.client.received.count >= 50 + count }
            let replies = rig.client.received.filter { $0.seq >= 1_000 }
            let lost = count - Set(replies.map(\.seq)).count
            let afterRebind = replies.filter { $0.at > rebindAt }.count
            let moved = try await rig.hubDestination()
            print(
                "rebind: \(reply); hub now sends to \(moved ?? "-"); \(lost) of \(count) lost at \(Int(rate))/s, "
                    + "\(afterRebind) replies after the rebind"
            )
            #expect(fresh != original)
            #expect(moved == "\(fresh)")
            // Lost: only what the hub sent to the closed port before the edge's next datagram from
            // the new one reached it. The edge sends every 5 ms (200/s); 50 ms of traffic (10
            // datagrams) covers that and a loaded machine's scheduling delays.
            #expect(lost <= 10)
            // About 2 s of the 3 s transfer comes after the rebind: 400 replies; 300 leaves margin.
            #expect(afterRebind >= 300)
            #expect(try await rig.openFailed() == drops)
        }
    }
}
