import Foundation
import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANNode
import Testing

/// `HubNode.apply` and `EdgeNode.apply` in process: branches and listen addresses added and
/// removed under running tunnels, and a reload that cannot be applied refused whole.
@Suite(.serialized)
struct LiveNodeReloadTests {
    static func hubYAML(keys: TestKeys, branches: [Int], listen: [String], target: UDPEndpoint) -> String {
        var text = """
            role: hub
            name: hub1
            identity: { private_key_file: "\(keys.hubKeyPath)" }
            listen: [\(listen.map { "\"\($0)\"" }.joined(separator: ", "))]
            branches:

            """
        for i in branches {
            text += """
                  - name: store\(i)
                    public_key: \(keys.edgePublics[i])
                    psk_file: "\(keys.pskPath)"
                    allowed_prefixes: [10.\(i + 1).0.0/24]

                """
        }
        text += """
            udp_targets: { allowed: ["\(target)"] }
            status: { listen: "127.0.0.1:0" }

            """
        return text
    }

    static func hubConfig(_ text: String) throws -> HubConfig {
        guard case .hub(let c) = try NodeConfig.parse(text, file: "hub.yaml") else {
            throw LiveNodeTests.TestFailure("not a hub config")
        }
        return c
    }

    @Test func branchAndListenerAddedAndRemovedLiveAndAnUnbindableAddressRefusesTheReload() async throws {
        try await LiveResources.run { resources, group in
            let keys = try resources.keys(edges: 2)
            let echo = try await resources.echo(on: group.next())
            let target = echo.socket.localEndpoint
            let hub = try await resources.hub(
                Self.hubYAML(keys: keys, branches: [0], listen: ["127.0.0.1:0"], target: target),
                on: group.next()
            )
            let first = try #require(try await hub.listenerEndpoint(0).get())
            let edge0 = try await resources.edge(
                LiveConfigs.edge(
                    keys: keys,
                    index: 0,
                    links: [("fiber", "127.0.0.1:0", first)],
                    innerAddress: "10.1.0.1",
                    target: target
                ),
                on: group.next()
            )
            #expect(try await eventually(5) { try await edge0.status().get().tunnels[0].established })

            // store1 and a second listen address (IPv6) added.
            let added = try await hub.apply(
                Self.hubConfig(
                    Self.hubYAML(keys: keys, branches: [0, 1], listen: ["127.0.0.1:0", "[::1]:0"], target: target)
                )
            ).get()
            #expect(added.contains("branch store1 added") && added.contains("listen [::1]:0 added"))
            let second = try #require(try await hub.listenerEndpoint(1).get())
            let edge1 = try await resources.edge(
                LiveConfigs.edge(
                    keys: keys,
                    index: 1,
                    links: [("lte", "[::1]:0", second)],
                    innerAddress: "10.2.0.1",
                    target: target
                ),
                on: group.next()
            )
            #expect(try await eventually(5) { try await edge1.status().get().tunnels[0].established })
            // A listen address that is not this host's cannot be bound: the whole reload (which
            // would also remove store1) is refused and nothing changes.
            var refusal: Error?
            do {
                _ = try await hub.apply(
                    Self.hubConfig(
                        Self.hubYAML(keys: keys, branches: [0], listen: ["127.0.0.1:0", "192.0.2.1:9"], target: target)
                    )
                ).get()
            } catch {
                refusal = error
            }
            #expect(refusal is ReloadRefused)
            #expect(try await hub.status().get().tunnels.map(\.peer) == ["store0", "store1"])

            // store0 removed: its session is dropped, store1's is untouched.
            let dropsBefore = try await hub.endpointDrops().get()[.unknownReceiverIndex] ?? 0
            let removed = try await hub.apply(
                Self.hubConfig(
                    Self.hubYAML(keys: keys, branches: [1], listen: ["127.0.0.1:0", "[::1]:0"], target: target)
                )
            ).get()
            #expect(removed == ["branch store0 removed"])
            #expect(try await hub.status().get().tunnels.map(\.peer) == ["store1"])
            // store0's edge still sends (probes) on its old session: refused by receiver index.
            #expect(
                try await eventually(5) {
                    try await hub.endpointDrops().get()[.unknownReceiverIndex] ?? 0 > dropsBefore
                }
            )
            // The IPv4 listener removed: its slot closes, the IPv6 one (store1's) keeps its slot.
            let closed = try await hub.apply(
                Self.hubConfig(Self.hubYAML(keys: keys, branches: [1], listen: ["[::1]:0"], target: target))
            ).get()
            #expect(closed == ["listen 127.0.0.1:0 removed"])
            #expect(try await hub.listenerEndpoint(0).get() == nil)
            #expect(try await hub.listenerEndpoint(1).get() == second)
            try await Task.sleep(nanoseconds: 500_000_000)
            let store1 = try await edge1.status().get().tunnels[0]
            #expect(store1.established && store1.handshakes == 1 && store1.links.map(\.state) == ["up"])
        }
    }

    @Test func edgeReloadWithAnUnbindableLinkAddressIsRefusedWhole() async throws {
        try await LiveNodeTests.Rig.run { rig in
            #expect(try await rig.established())
            let hubAddress = try #require(try await rig.hub.listenerEndpoint(0).get())
            let text = LiveConfigs.edge(
                keys: rig.keys,
                links: [("fiber", "127.0.0.1:0", hubAddress), ("lte", "192.0.2.1:0", hubAddress)],
                target: rig.echo.socket.localEndpoint
            )
            guard case .edge(let config) = try NodeConfig.parse(text, file: "edge.yaml") else {
                throw LiveNodeTests.TestFailure("not an edge config")
            }
            var refusal: Error?
            do { _ = try await rig.edge.apply(config).get() } catch { refusal = error }
            #expect(refusal is ReloadRefused)
            // The three links of the rig still run, on their first session.
            let tunnel = try await rig.edge.status().get().tunnels[0]
            #expect(tunnel.links.map(\.name) == ["fiber", "dsl", "lte"])
            #expect(tunnel.handshakes == 1)
            try await rig.client.send(to: rig.forwardPort, count: 20, rate: 200)
            #expect(await eventually(3) { rig.client.received.count >= 20 })
        }
    }
}
