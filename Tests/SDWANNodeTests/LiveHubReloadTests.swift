import Foundation
import NIOCore
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANNode
import Testing

/// `EdgeNode.apply` with the hub list changed (docs/operations.md "Reload"): a hub added gets a
/// tunnel at once and the running one keeps its session; the active hub removed moves traffic to
/// the one left.
@Suite(.serialized)
struct LiveHubReloadTests {
    static func edgeConfig(_ text: String) throws -> EdgeConfig {
        guard case .edge(let c) = try NodeConfig.parse(text, file: "edge.yaml") else {
            throw LiveNodeTests.TestFailure("not an edge config")
        }
        return c
    }

    @Test func hubAddedGetsATunnelLiveAndRemovingTheActiveHubMovesTraffic() async throws {
        try await LiveResources.run { resources, group in
            let keys = try resources.keys(edges: 1)
            var random = SystemRandomSource()
            let keyB = PrivateKey.generate(using: &random)
            let publicB = keyB.publicKey
            let keyBPath = keys.directory + "/hub-b.key"
            try LiveReloadTests.write(keyB.base64ForKeyFile(), to: keyBPath)
            let echo = try await resources.echo(on: group.next())
            let target = echo.socket.localEndpoint
            let hubA = try await resources.hub(
                LiveHubFailoverTests.hubYAML(name: "hub-a", keyPath: keys.hubKeyPath, keys: keys, target: target),
                on: group.next()
            )
            let hubB = try await resources.hub(
                LiveHubFailoverTests.hubYAML(name: "hub-b", keyPath: keyBPath, keys: keys, target: target),
                on: group.next()
            )
            let a = (
                name: "hub-a", key: keys.hubPublic, endpoint: try #require(try await hubA.listenerEndpoint(0).get())
            )
            let b = (name: "hub-b", key: publicB, endpoint: try #require(try await hubB.listenerEndpoint(0).get()))
            func config(_ hubs: [(name: String, key: PublicKey, endpoint: UDPEndpoint)]) throws -> EdgeConfig {
                try Self.edgeConfig(LiveHubFailoverTests.edgeYAML(keys: keys, hubs: hubs, target: target))
            }
            let edge = try await resources.edge(
                LiveHubFailoverTests.edgeYAML(keys: keys, hubs: [a], target: target),
                on: group.next()
            )
            let upOnA = try await eventually(10) { try await edge.status().get().activeHub == "hub-a" }
            try #require(upOnA)

            let added = try await edge.apply(try config([a, b])).get()
            #expect(added.contains("hub hub-b added"), "\(added)")
            let bothUp = try await eventually(10) {
                let s = try await edge.status().get()
                return s.tunnels.map(\.peer) == ["hub-a", "hub-b"] && s.tunnels.allSatisfy(\.established)
            }
            #expect(bothUp)
            let afterAdd = try await edge.status().get()
            // The running tunnel kept its session: one handshake; hub A stayed active.
            #expect(afterAdd.tunnels[0].handshakes == 1 && afterAdd.activeHub == "hub-a")

            let removed = try await edge.apply(try config([b])).get()
            #expect(removed.contains("hub hub-a removed"), "\(removed)")
            let onB = try await eventually(10) {
                let s = try await edge.status().get()
                return s.tunnels.map(\.peer) == ["hub-b"] && s.activeHub == "hub-b"
            }
            #expect(onB)
            let final = try await edge.status().get()
            #expect(final.tunnels[0].handshakes == 1, "hub B's tunnel kept its session across the second reload")
        }
    }
}
