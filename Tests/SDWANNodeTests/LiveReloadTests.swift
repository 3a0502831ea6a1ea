import Foundation
import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANNode
import Testing

/// `sdwan edge` and `sdwan hub` as real processes on loopback: SIGHUP applies a new config under
/// traffic, a bad one is refused, SIGTERM stops gracefully (docs/operations.md "Reload",
/// "Lifecycle").
@Suite(.serialized)
struct LiveReloadTests {
    struct Link {
        var id: Int
        var name: String
        var local: String
        var hub: String
        var tier: Int
    }

    static func hubYAML(keys: TestKeys, target: UDPEndpoint, maxFlows: Int) -> String {
        """
        role: hub
        name: hub1
        identity: { private_key_file: "\(keys.hubKeyPath)" }
        listen: ["127.0.0.1:0", "[::1]:0"]
        branches:
          - name: store0
            public_key: \(keys.edgePublics[0])
            psk_file: "\(keys.pskPath)"
            allowed_prefixes: [10.1.0.0/24]
        udp_targets:
          allowed: ["\(target)"]
          max_flows: \(maxFlows)
        status: { listen: "127.0.0.1:0" }

        """
    }

    static func edgeYAML(keys: TestKeys, links: [Link], target: UDPEndpoint) -> String {
        var text = """
            role: edge
            name: store0
            identity: { private_key_file: "\(keys.edgeKeyPaths[0])" }
            hub: { name: hub1, public_key: \(keys.hubPublic), psk_file: "\(keys.pskPath)" }
            links:

            """
        for l in links {
            text +=
                "  - { id: \(l.id), name: \(l.name), local: \"\(l.local)\", hub_endpoint: \"\(l.hub)\", tier: \(l.tier) }\n"
        }
        text += """
            ingress:
              address: 10.1.0.1
              udp_forwards:
                - { name: echo, listen: "127.0.0.1:0", target: "\(target)", class: default }
            status: { listen: "127.0.0.1:0" }

            """
        return text
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
    }

    /// A hub process (`hubYAML`, ready) beside an echo target and a forward client: what both
    /// reload tests start from. The edge's config goes to `edgePath`.
    struct Rig {
        let keys: TestKeys
        let client: ForwardClient
        let target: UDPEndpoint
        let hubPath: String
        let edgePath: String
        let hub: NodeProcess

        init(_ resources: LiveResources, _ group: MultiThreadedEventLoopGroup) async throws {
            keys = try resources.keys(edges: 1)
            let echo = try await resources.echo(on: group.next())
            client = try await resources.client(on: group.next())
            target = echo.socket.localEndpoint
            hubPath = keys.directory + "/hub.yaml"
            edgePath = keys.directory + "/edge.yaml"
            try LiveReloadTests.write(LiveReloadTests.hubYAML(keys: keys, target: target, maxFlows: 64), to: hubPath)
            hub = try NodeProcess.start(
                role: "hub",
                configPath: hubPath,
                logPath: keys.directory + "/hub.log",
                resources: resources
            )
            #expect(await hub.ready(within: 20), "hub log:\n\(hub.log)")
        }

        /// Starts the edge on the config at `edgePath` and waits until it is ready.
        func startEdge(_ resources: LiveResources) async throws -> NodeProcess {
            let edge = try NodeProcess.start(
                role: "edge",
                configPath: edgePath,
                logPath: keys.directory + "/edge.log",
                resources: resources
            )
            #expect(await edge.ready(within: 20), "edge log:\n\(edge.log)")
            return edge
        }
    }

    @Test func sighupUnderTrafficAddsAndRemovesLinksWithoutLossOrHandshakeAndRefusesABadConfig() async throws {
        try await LiveResources.run { resources, group in
            let rig = try await Rig(resources, group)
            let (keys, client, target, hubPath, edgePath, hub) = (
                rig.keys, rig.client, rig.target, rig.hubPath, rig.edgePath, rig.hub
            )
            let listening = hub.listening
            let v4 = try #require(listening.first { $0.address.isV4 }, "hub log:\n\(hub.log)")
            let v6 = try #require(listening.first { !$0.address.isV4 }, "hub log:\n\(hub.log)")
            let fiber = Link(id: 1, name: "fiber", local: "127.0.0.1:0", hub: "\(v4)", tier: 1)
            let dsl = Link(id: 2, name: "dsl", local: "127.0.0.2:0", hub: "\(v4)", tier: 2)
            let lte = Link(id: 3, name: "lte", local: "[::1]:0", hub: "\(v6)", tier: 2)
            func edgeConfig(_ links: [Link]) -> String { Self.edgeYAML(keys: keys, links: links, target: target) }
            try Self.write(edgeConfig([fiber, dsl]), to: edgePath)
            let edge = try await rig.startEdge(resources)
            let forward = try #require(edge.forwardAddress, "edge log:\n\(edge.log)")
            let edgeStatus = try #require(edge.statusAddress)
            func links() async -> [String: String] {
                guard let tunnel = await edge.status()?.tunnels.first else { return [:] }
                return Dictionary(uniqueKeysWithValues: tunnel.links.map { ($0.name, $0.state) })
            }
            let up = await eventually(15) { await links() == ["fiber": "up", "dsl": "up"] }
            try #require(up, "edge log:\n\(edge.log)")

            // 200 datagrams/s through the forward, in the default class (tier 1: fiber).
            let sender = SteadySender(
                client: client,
                to: forward,
                interval: .milliseconds(5)
            )
            resources.onClose { await sender.stop() }
            #expect(await eventually(10) { client.received.count >= 100 })

            // Reload 1: dsl removed, lte (over ::1) added; fiber and the default class untouched. The
            // hub reloads too (a new flow limit).
            try Self.write(edgeConfig([fiber, lte]), to: edgePath)
            try Self.write(Self.hubYAML(keys: keys, target: target, maxFlows: 32), to: hubPath)
            edge.signal(SIGHUP)
            hub.signal(SIGHUP)
            let lteUp = await eventually(15) { await links() == ["fiber": "up", "lte": "up"] }
            #expect(lteUp, "edge log:\n\(edge.log)")
            #expect(await eventually(5) { hub.log.contains("udp_targets changed") }, "hub log:\n\(hub.log)")
            try await Task.sleep(nanoseconds: 1_000_000_000)
            let phaseOneEnd = sender.sentAt.count
            let edgeTunnel = try #require(await edge.status()?.tunnels.first)
            let hubTunnel = try #require(await hub.status()?.tunnels.first)
            // No new handshake at either end (the first is the only one), no rekey.
            #expect(edgeTunnel.handshakes == 1 && edgeTunnel.rekeys == 0)
            #expect(hubTunnel.handshakes == 1 && hubTunnel.rekeys == 0)
            #expect(hubTunnel.links.map(\.name).sorted() == ["fiber", "lte"])
            // `sdwan status` (the CLI) agrees with /status.
            let json = try await runSDWAN(["status", "--address", "\(edgeStatus)", "--json"])
            let decoded = try JSONDecoder().decode(NodeStatus.self, from: Data(json.output.utf8))
            #expect(json.status == 0 && decoded.name == "store0")
            #expect(decoded.tunnels.first?.links.map(\.name) == edgeTunnel.links.map(\.name))
            #expect(decoded.tunnels.first?.handshakes == 1)
            let table = try await runSDWAN(["status", "--address", "\(edgeStatus)"])
            #expect(table.status == 0 && table.output.contains("tunnel to hub1: established"), "\(table.output)")
            #expect(table.output.contains("fiber (1)") && table.output.contains("lte (3)"), "\(table.output)")

            // Reload 2: fiber, which carries the default class, is removed: its traffic moves to lte.
            try Self.write(edgeConfig([lte]), to: edgePath)
            let reloadTwoAt = Clocks.monotonic()
            edge.signal(SIGHUP)
            let moved = await eventually(10) {
                await edge.status()?.tunnels.first?.classes.first { $0.name == "default" }?.links == [3]
            }
            #expect(moved, "edge log:\n\(edge.log)")
            try await Task.sleep(nanoseconds: 1_500_000_000)

            // Reload 3: a broken file is refused and logged; the running config keeps going.
            try Self.write("role: edge\nlinks: [\n", to: edgePath)
            let refusedBefore = edge.log.components(separatedBy: "reload refused").count
            edge.signal(SIGHUP)
            let refused = await eventually(10) {
                edge.log.components(separatedBy: "reload refused").count > refusedBefore
            }
            #expect(refused, "edge log:\n\(edge.log)")
            try await Task.sleep(nanoseconds: 1_000_000_000)
            #expect(await links() == ["lte": "up"])
            #expect(edge.process.isRunning)

            await sender.stop()
            let sentAt = sender.sentAt
            _ = await eventually(3) { Set(client.received.map(\.seq)).count >= sentAt.count }
            let replied = Set(client.received.map(\.seq))
            let lost = (0..<UInt32(sentAt.count)).filter { !replied.contains($0) }
            print(
                "reload under traffic: \(sentAt.count) sent, \(lost.count) lost; "
                    + "phase 1 (dsl removed, lte added) \(phaseOneEnd) sent, lost \(lost.filter { $0 < phaseOneEnd })"
            )
            // Reload 1 touched neither fiber nor the default class: not one datagram lost.
            #expect(lost.allSatisfy { $0 >= phaseOneEnd })
            // Reload 2 closed the socket under the class: only datagrams in flight on fiber at that
            // moment can be lost, and the hub's replies until the edge's announcement reaches it. On
            // loopback that is well under 50 ms; 50 ms at 200/s = 10 datagrams, all sent around the
            // reload (within 500 ms of it, which absorbs a loaded machine's scheduling delay).
            #expect(lost.count <= 10)
            for seq in lost {
                let at = sentAt[Int(seq)]
                #expect(at > reloadTwoAt - .milliseconds(500) && at < reloadTwoAt + .milliseconds(500))
            }
            let finalEdge = try #require(await edge.status()?.tunnels.first)
            #expect(finalEdge.handshakes == 1 && finalEdge.rekeys == 0)

            // SIGTERM: graceful stop, exit 0, within 10 s.
            edge.signal(SIGTERM)
            hub.signal(SIGTERM)
            let edgeExit = await edge.exitStatus(within: 10)
            let hubExit = await hub.exitStatus(within: 10)
            #expect(edgeExit?.reason == .exit && edgeExit?.status == 0, "edge log:\n\(edge.log)")
            #expect(hubExit?.reason == .exit && hubExit?.status == 0, "hub log:\n\(hub.log)")
            #expect(edge.log.contains("stopped") && hub.log.contains("stopped"))
        }
    }

    /// A link renumbered on its explicit address: the reload releases the old socket and binds
    /// the new one there (sockets never share a port), traffic goes on. A second edge configured
    /// with the same port does not start: the bind fails and the log says so.
    @Test func aRenumberedLinkKeepsItsExplicitPortAndASecondNodeCannotTakeIt() async throws {
        try await LiveResources.run { resources, group in
            let rig = try await Rig(resources, group)
            let (keys, client, target, edgePath, hub) = (rig.keys, rig.client, rig.target, rig.edgePath, rig.hub)
            let v4 = try #require(hub.listening.first { $0.address.isV4 }, "hub log:\n\(hub.log)")
            // A free port on 127.0.0.3 (bound and released here; nothing else uses that address).
            let probe = try await UDPLinkSocket.open(
                UDPSocketConfiguration(local: UDPEndpoint("127.0.0.3:0")!),
                on: group.next()
            ) { _ in }.get()
            let port = probe.localEndpoint.port
            try await probe.close().get()
            let fiber = Link(id: 1, name: "fiber", local: "127.0.0.3:\(port)", hub: "\(v4)", tier: 1)
            try Self.write(Self.edgeYAML(keys: keys, links: [fiber], target: target), to: edgePath)
            let edge = try await rig.startEdge(resources)
            let forward = try #require(edge.forwardAddress, "edge log:\n\(edge.log)")
            func links() async -> [String: String] {
                guard let tunnel = await edge.status()?.tunnels.first else { return [:] }
                return Dictionary(uniqueKeysWithValues: tunnel.links.map { ("\($0.name)#\($0.id)", $0.state) })
            }
            #expect(await eventually(15) { await links() == ["fiber#1": "up"] }, "edge log:\n\(edge.log)")
            let sender = SteadySender(client: client, to: forward, interval: .milliseconds(10))
            resources.onClose { await sender.stop() }
            #expect(await eventually(10) { client.received.count >= 50 })

            // A second edge with the same link address: the bind fails, the process exits.
            let twinPath = keys.directory + "/twin.yaml"
            try Self.write(Self.edgeYAML(keys: keys, links: [fiber], target: target), to: twinPath)
            let twin = try await runSDWAN(["edge", "--config", twinPath], seconds: 10)
            #expect(twin.status != nil && twin.status != 0, "\(twin.output)")
            #expect(twin.output.contains("in use"), "\(twin.output)")

            // Reload: the same address under a new id.
            var renumbered = fiber
            renumbered.id = 4
            try Self.write(Self.edgeYAML(keys: keys, links: [renumbered], target: target), to: edgePath)
            edge.signal(SIGHUP)
            #expect(await eventually(15) { await links() == ["fiber#4": "up"] }, "edge log:\n\(edge.log)")
            #expect(!edge.log.contains("reload refused"), "edge log:\n\(edge.log)")
            let before = client.received.count
            #expect(await eventually(10) { client.received.count >= before + 50 }, "edge log:\n\(edge.log)")
            let status = try #require(await edge.status()?.tunnels.first)
            #expect(status.handshakes == 1)

            // A reload that renumbers it again but cannot bind another link (an address this host
            // lacks) is refused after the release: the running link's socket is rebuilt.
            var again = renumbered
            again.id = 5
            let unbindable = Link(id: 6, name: "dsl", local: "192.0.2.77:0", hub: "\(v4)", tier: 2)
            try Self.write(Self.edgeYAML(keys: keys, links: [again, unbindable], target: target), to: edgePath)
            edge.signal(SIGHUP)
            #expect(await eventually(10) { edge.log.contains("reload refused") }, "edge log:\n\(edge.log)")
            #expect(await eventually(10) { edge.log.contains("link socket rebuilt") }, "edge log:\n\(edge.log)")
            let afterRefusal = client.received.count
            #expect(await eventually(10) { client.received.count >= afterRefusal + 50 }, "edge log:\n\(edge.log)")
            // The rebuild took ~1 s of the link's probes: its monitor may go through down and back.
            let recovered = await eventually(20) { await links() == ["fiber#4": "up"] }
            let finalLinks = await links()
            #expect(recovered, "\(finalLinks)")
        }
    }

    @Test func badConfigIsNamedByCheckAndStartsNothing() async throws {
        try await LiveResources.run { resources, _ in
            let keys = try resources.keys(edges: 1)
            let path = keys.directory + "/edge.yaml"
            // Two links with one name: file, line, field and what would be valid.
            try Self.write(
                Self.edgeYAML(
                    keys: keys,
                    links: [
                        Link(id: 1, name: "fiber", local: "127.0.0.1:0", hub: "127.0.0.1:9", tier: 1),
                        Link(id: 2, name: "fiber", local: "127.0.0.2:0", hub: "127.0.0.1:9", tier: 1),
                    ],
                    target: UDPEndpoint("127.0.0.1:9")!
                ),
                to: path
            )
            // A valid config with a TUN device: `check` shows the device as it will be set up.
            let tunPath = keys.directory + "/edge-tun.yaml"
            try Self.write(
                Self.edgeYAML(
                    keys: keys,
                    links: [Link(id: 1, name: "fiber", local: "127.0.0.1:0", hub: "127.0.0.1:9", tier: 1)],
                    target: UDPEndpoint("127.0.0.1:9")!
                ).replacingOccurrences(
                    of: "ingress:\n  address: 10.1.0.1\n",
                    with: "ingress:\n  address: 10.1.0.1\n"
                        + "  tun: { name: sdwanck0, addresses: [10.1.0.1/24], routes: [10.200.0.0/16] }\n"
                ),
                to: tunPath
            )
            let tunCheck = try await runSDWAN(["check", tunPath])
            #expect(tunCheck.status == 0, "\(tunCheck.output)")
            #expect(
                tunCheck.output.contains("tun sdwanck0: addresses 10.1.0.1/24; routes 10.200.0.0/16; MTU ")
                    && tunCheck.output.contains("(from the smallest link MTU)"),
                "\(tunCheck.output)"
            )
            let check = try await runSDWAN(["check", path])
            #expect(check.status == 1)
            #expect(
                check.output.contains("edge.yaml:") && check.output.contains("links[1]")
                    && check.output.contains("used twice") && check.output.contains("expected"),
                "\(check.output)"
            )
            // `sdwan edge` refuses it the same way and starts nothing (no socket, no status server).
            let start = try await runSDWAN(["edge", "--config", path])
            #expect(start.status == 1, "\(start.output)")
            #expect(start.output.contains("used twice"))
            #expect(!start.output.contains("socket open") && !start.output.contains("status and metrics"))
        }
    }
}
