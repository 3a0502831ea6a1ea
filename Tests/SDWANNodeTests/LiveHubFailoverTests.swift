import Foundation
import NIOCore
import SDWANConfig
import SDWANCore
import SDWANIO
import SDWANNode
import Testing

/// One edge with `hubs: [hub-a, hub-b]` and two real `sdwan hub` processes on loopback
/// (docs/operations.md "Failover between hubs"): traffic through a forward rides hub A; SIGSTOP
/// on hub A moves it to the warm hub B within the monitor's window; SIGCONT brings it back to A
/// after the hold-down.
///
/// Both hubs forward to one echo target (the edge's forward names one target address); which hub
/// carried the traffic is read from each hub's own /status: the `default` class's `delivered`
/// count of its tunnel to the branch rises only on the hub that carries it.
@Suite(.serialized)
struct LiveHubFailoverTests {
    static let holdDown = 2.0

    static func hubYAML(name: String, keyPath: String, keys: TestKeys, target: UDPEndpoint) -> String {
        """
        role: hub
        name: \(name)
        identity: { private_key_file: "\(keyPath)" }
        listen: ["127.0.0.1:0"]
        branches:
          - name: store0
            public_key: \(keys.edgePublics[0])
            psk_file: "\(keys.pskPath)"
            allowed_prefixes: [10.1.0.0/24]
        udp_targets:
          allowed: ["\(target)"]
        status: { listen: "127.0.0.1:0" }

        """
    }

    static func edgeYAML(
        keys: TestKeys,
        hubs: [(name: String, key: PublicKey, endpoint: UDPEndpoint)],
        target: UDPEndpoint
    )
        -> String
    {
        var text = """
            role: edge
            name: store0
            identity: { private_key_file: "\(keys.edgeKeyPaths[0])" }
            hub_selection: { hold_down: \(Int(holdDown))s }
            hubs:

            """
        for hub in hubs {
            text +=
                "  - { name: \(hub.name), public_key: \(hub.key), psk_file: \"\(keys.pskPath)\", endpoint: \"\(hub.endpoint)\" }\n"
        }
        text += """
            links:
              - { id: 1, name: fiber, local: "127.0.0.1:0" }
              - { id: 2, name: dsl, local: "127.0.0.2:0" }
            ingress:
              address: 10.1.0.1
              udp_forwards:
                - { name: echo, listen: "127.0.0.1:0", target: "\(target)", class: default }
            status: { listen: "127.0.0.1:0" }

            """
        return text
    }

    /// The `default` class's delivered count on a hub's tunnel to store0 (`nil`: no answer, as
    /// while the hub is stopped).
    static func delivered(_ hub: NodeProcess) async -> UInt64? {
        await hub.status()?.tunnels.first?.classes.first { $0.name == "default" }?.delivered
    }

    @Test func trafficMovesToTheBackupHubWhenThePrimaryStopsAndReturnsAfterTheHoldDown() async throws {
        try await LiveResources.run { resources, group in
            let keys = try resources.keys(edges: 1)
            var random = SystemRandomSource()
            let keyB = PrivateKey.generate(using: &random)
            let publicB = keyB.publicKey
            let keyBPath = keys.directory + "/hub-b.key"
            try LiveReloadTests.write(keyB.base64ForKeyFile(), to: keyBPath)
            let echo = try await resources.echo(on: group.next())
            let client = try await resources.client(on: group.next())
            let target = echo.socket.localEndpoint
            var hubs: [NodeProcess] = []
            for (name, keyPath) in [("hub-a", keys.hubKeyPath), ("hub-b", keyBPath)] {
                let path = keys.directory + "/\(name).yaml"
                try LiveReloadTests.write(
                    Self.hubYAML(name: name, keyPath: keyPath, keys: keys, target: target),
                    to: path
                )
                let hub = try NodeProcess.start(
                    role: "hub",
                    configPath: path,
                    logPath: keys.directory + "/\(name).log",
                    resources: resources
                )
                hubs.append(hub)
            }
            let (hubA, hubB) = (hubs[0], hubs[1])
            // A stopped hub must not outlive the test stopped (cleanup SIGKILLs it either way).
            resources.onClose { hubA.signal(SIGCONT) }
            for hub in hubs { #expect(await hub.ready(within: 20), "hub log:\n\(hub.log)") }
            let endpointA = try #require(hubA.listening.first, "hub log:\n\(hubA.log)")
            let endpointB = try #require(hubB.listening.first, "hub log:\n\(hubB.log)")
            let edgePath = keys.directory + "/edge.yaml"
            let edgeText = Self.edgeYAML(
                keys: keys,
                hubs: [("hub-a", keys.hubPublic, endpointA), ("hub-b", publicB, endpointB)],
                target: target
            )
            try LiveReloadTests.write(edgeText, to: edgePath)
            let edge = try NodeProcess.start(
                role: "edge",
                configPath: edgePath,
                logPath: keys.directory + "/edge.log",
                resources: resources
            )
            #expect(await edge.ready(within: 20), "edge log:\n\(edge.log)")
            let forward = try #require(edge.forwardAddress, "edge log:\n\(edge.log)")
            // Both tunnels up (the backup is warm) and hub A active.
            let warm = await eventually(20) {
                guard let status = await edge.status(), status.tunnels.count == 2 else { return false }
                let allUp = status.tunnels.allSatisfy { t in t.established && t.links.allSatisfy { $0.state == "up" } }
                return allUp && status.activeHub == "hub-a"
            }
            try #require(warm, "edge log:\n\(edge.log)")

            let sender = SteadySender(client: client, to: forward, interval: .milliseconds(5))
            resources.onClose { await sender.stop() }
            #expect(await eventually(10) { client.received.count >= 100 })
            let bBefore = try #require(await Self.delivered(hubB))
            let aBefore = try #require(await Self.delivered(hubA))
            #expect(aBefore >= 100)
            #expect(bBefore == 0)

            // Hub A stops answering. Each of its links is declared down after the detection window
            // W = max(3 × 100 ms probe interval, 100 ms + 4 × SRTT) = 300 ms on loopback
            // (PathMonitor.updateDetectionWindow); the hub choice is re-run in the same drain, and
            // hub B's tunnel is already up. Bound on the longest reply gap: W + one 100 ms probe
            // interval (the monitor's timer granularity) + 1.1 s for process scheduling of three
            // debug-built processes on a loaded two-core machine = 1.5 s.
            let stopAt = Clocks.monotonic()
            hubA.signal(SIGSTOP)
            let movedToB = await eventually(10) { await edge.status()?.activeHub == "hub-b" }
            #expect(movedToB, "edge log:\n\(edge.log)")
            try await Task.sleep(nanoseconds: 1_000_000_000)
            var gap = TimeSpan.zero
            var previous = stopAt
            for at in client.received.map(\.at).filter({ $0 > stopAt }).sorted() {
                gap = max(gap, at - previous)
                previous = at
            }
            let bDuring = try #require(await Self.delivered(hubB))
            #expect(bDuring > 100, "hub B delivered \(bDuring)")
            #expect(gap < .milliseconds(1_500))

            // Hub A resumes: its links recover, and traffic returns only after A has been usable
            // for the whole hold-down (2 s); the bound above it (8 s) holds the monitor's recovery
            // run and scheduling delay.
            let resumeAt = Clocks.monotonic()
            hubA.signal(SIGCONT)
            let back = await eventually(15) { await edge.status()?.activeHub == "hub-a" }
            let backAt = Clocks.monotonic()
            #expect(back, "edge log:\n\(edge.log)")
            #expect(backAt - resumeAt >= .seconds(2))
            #expect(backAt - resumeAt < .seconds(10))
            try await Task.sleep(nanoseconds: 500_000_000)
            let aAfter = try #require(await Self.delivered(hubA))
            let bAfter = try #require(await Self.delivered(hubB))
            try await Task.sleep(nanoseconds: 1_000_000_000)
            let aLater = try #require(await Self.delivered(hubA))
            let bLater = try #require(await Self.delivered(hubB))
            #expect(aLater - aAfter >= 100, "hub A delivered \(aAfter) → \(aLater)")
            #expect(bLater == bAfter, "hub B delivered \(bAfter) → \(bLater)")

            let metrics = try await Task.detached {
                try StatusClient.get("/metrics", from: try #require(edge.statusAddress))
            }.value
            #expect(metrics.contains("sdwan_hub_active{hub=\"hub-a\"} 1"), "\(metrics)")
            #expect(metrics.contains("sdwan_hub_active{hub=\"hub-b\"} 0"), "\(metrics)")
            #expect(edge.log.components(separatedBy: "active hub changed").count - 1 >= 3, "edge log:\n\(edge.log)")
            await sender.stop()
            let switches = await edge.status()?.hubSwitches
            print(
                "hub failover: longest reply gap after SIGSTOP \(gap); back on hub A \(backAt - resumeAt) after "
                    + "SIGCONT (hold-down 2 s); hub B carried \(bAfter) datagrams; \(switches ?? 0) switches"
            )
        }
    }
}
