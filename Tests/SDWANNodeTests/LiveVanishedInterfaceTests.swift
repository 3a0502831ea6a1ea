import Foundation
import SDWANConfig
import SDWANCore
import SDWANNode
import Testing

/// A link bound to an interface (`interface:`, SO_BINDTODEVICE) whose interface disappears and
/// comes back (docs/operations.md "links"): the edge and hub run in two network namespaces of
/// their own joined by two veth pairs, one per link. Needs root (namespaces, veth).
@Suite(.serialized, .enabled(if: getuid() == 0, "network namespaces need root"))
struct LiveVanishedInterfaceTests {
    /// Runs `ip <arguments>` to completion (at most 10 s); its exit status and output.
    @discardableResult
    static func ip(_ arguments: [String]) async throws -> (status: Int32?, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = Task.detached { String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        let ended = await eventually(10) { !process.isRunning }
        if !ended {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return (ended ? process.terminationStatus : nil, await output.value)
    }

    static func require(_ arguments: [String]) async throws {
        let result = try await ip(arguments)
        guard result.status == 0 else {
            throw LiveNodeTests.TestFailure("ip \(arguments.joined(separator: " ")): \(result.output)")
        }
    }

    /// The hub's side of link `n`: a bridge holding 10.201.n.2/24 in `hubNS`. The address stays when
    /// the edge's interface goes: deleting a veth deletes both its ends, and a hub socket whose
    /// address vanished would fail its next send and be closed by NIO (see the report).
    static func hubBridge(_ n: Int, hubNS: String) async throws {
        try await require(["-n", hubNS, "link", "add", "svbr\(n)", "type", "bridge"])
        try await require(["-n", hubNS, "addr", "add", "10.201.\(n).2/24", "dev", "svbr\(n)"])
        try await require(["-n", hubNS, "link", "set", "svbr\(n)", "up"])
    }

    /// A veth pair for link `n`: `edgeSide` (10.201.n.1/24) in `edgeNS`, its peer a port of the
    /// hub's bridge for link `n`, both up.
    static func pair(_ n: Int, edgeSide: String, hubSide: String, edgeNS: String, hubNS: String) async throws {
        try await require([
            "link", "add", edgeSide, "netns", edgeNS, "type", "veth", "peer", "name", hubSide, "netns", hubNS,
        ])
        try await require(["-n", edgeNS, "addr", "add", "10.201.\(n).1/24", "dev", edgeSide])
        try await require(["-n", hubNS, "link", "set", hubSide, "master", "svbr\(n)"])
        try await require(["-n", edgeNS, "link", "set", edgeSide, "up"])
        try await require(["-n", hubNS, "link", "set", hubSide, "up"])
    }

    /// The edge's /status, asked by `sdwan status --json` inside its namespace.
    static func status(namespace: String, address: UDPEndpoint) async -> NodeStatus? {
        guard let binary = NodeProcess.binary,
            let result = try? await ip([
                "netns", "exec", namespace, binary.path, "status", "--json", "--address", "\(address)",
            ]),
            result.status == 0
        else { return nil }
        return try? JSONDecoder().decode(NodeStatus.self, from: Data(result.output.utf8))
    }

    @Test func vanishedInterfaceTakesItsLinkDownAndItsReturnBringsItBack() async throws {
        try await LiveResources.run { resources, group in
            let keys = try resources.keys(edges: 1)
            let tag = String(UInt32.random(in: 0..<0xFF_FFFF), radix: 16)
            let edgeNS = "sdwan-e-\(tag)"
            let hubNS = "sdwan-h-\(tag)"
            let (wan1, wan2) = ("sv\(tag)e1", "sv\(tag)e2")
            // Namespaces go last, after every process in them was killed by PID.
            resources.onClose {
                _ = try? await Self.ip(["netns", "del", edgeNS])
                _ = try? await Self.ip(["netns", "del", hubNS])
            }
            try await Self.require(["netns", "add", edgeNS])
            try await Self.require(["netns", "add", hubNS])
            try await Self.require(["-n", edgeNS, "link", "set", "lo", "up"])
            try await Self.require(["-n", hubNS, "link", "set", "lo", "up"])
            try await Self.hubBridge(1, hubNS: hubNS)
            try await Self.hubBridge(2, hubNS: hubNS)
            try await Self.pair(1, edgeSide: wan1, hubSide: "sv\(tag)h1", edgeNS: edgeNS, hubNS: hubNS)
            try await Self.pair(2, edgeSide: wan2, hubSide: "sv\(tag)h2", edgeNS: edgeNS, hubNS: hubNS)

            let hubPath = keys.directory + "/hub.yaml"
            try LiveReloadTests.write(
                """
                role: hub
                name: hub1
                identity: { private_key_file: "\(keys.hubKeyPath)" }
                listen: ["10.201.1.2:0", "10.201.2.2:0"]
                branches:
                  - { name: store0, public_key: \(keys.edgePublics[0]), psk_file: "\(keys.pskPath)", allowed_prefixes: [10.1.0.0/24] }
                status: { listen: "127.0.0.1:0" }

                """,
                to: hubPath
            )
            let hub = try NodeProcess.start(
                role: "hub",
                configPath: hubPath,
                logPath: keys.directory + "/hub.log",
                resources: resources,
                namespace: hubNS
            )
            let listening = await eventually(20) { hub.log.contains("SIGHUP reloads") && hub.listening.count == 2 }
            try #require(listening, "hub log:\n\(hub.log)")
            let hub1 = try #require(hub.listening.first { $0.address == IPAddress("10.201.1.2") })
            let hub2 = try #require(hub.listening.first { $0.address == IPAddress("10.201.2.2") })
            let edgePath = keys.directory + "/edge.yaml"
            try LiveReloadTests.write(
                """
                role: edge
                name: store0
                identity: { private_key_file: "\(keys.edgeKeyPaths[0])" }
                hub: { name: hub1, public_key: \(keys.hubPublic), psk_file: "\(keys.pskPath)" }
                links:
                  - { id: 1, name: wan1, local: "10.201.1.1:0", interface: \(wan1), hub_endpoint: "\(hub1)", tier: 1 }
                  - { id: 2, name: wan2, local: "10.201.2.1:0", interface: \(wan2), hub_endpoint: "\(hub2)", tier: 2 }
                status: { listen: "127.0.0.1:0" }

                """,
                to: edgePath
            )
            let edge = try NodeProcess.start(
                role: "edge",
                configPath: edgePath,
                logPath: keys.directory + "/edge.log",
                resources: resources,
                namespace: edgeNS
            )
            let started = await eventually(20) { edge.log.contains("SIGHUP reloads") && edge.statusAddress != nil }
            try #require(started, "edge log:\n\(edge.log)")
            let address = try #require(edge.statusAddress)
            func view() async -> (states: [String: String], defaultLinks: [Int])? {
                guard let tunnel = await Self.status(namespace: edgeNS, address: address)?.tunnels.first else {
                    return nil
                }
                let states = Dictionary(uniqueKeysWithValues: tunnel.links.map { ($0.name, $0.state) })
                return (states, tunnel.classes.first { $0.name == "default" }?.links ?? [])
            }
            let up = await eventually(20) {
                guard let v = await view() else { return false }
                return v.states == ["wan1": "up", "wan2": "up"] && v.defaultLinks.first == 1
            }
            try #require(up, "edge log:\n\(edge.log)")

            // The interface goes (deleting one end of a veth pair deletes both). The edge checks
            // its interfaces once a second (EdgeNode.housekeep) and takes the link down at once, so
            // the bound is 1 s + the status round trip through `ip netns exec` (a process start,
            // ~0.3 s in a debug build) + 1.7 s of scheduling slack on a loaded machine = 3 s.
            let goneAt = Date()
            try await Self.require(["-n", edgeNS, "link", "del", wan1])
            // (The monitor may call the link down first: silence for its 300 ms window.)
            let down = await eventually(3) {
                guard edge.log.contains("interface vanished: link down"), let v = await view() else { return false }
                return v.states["wan1"] == "down" && v.defaultLinks.first == 2
            }
            let downAfter = Date().timeIntervalSince(goneAt)
            #expect(down, "edge log:\n\(edge.log)")

            // It comes back: the socket is rebuilt within a second and the link is probed alive both
            // ways again. It returns `degraded` rather than `up` while the probes lost in the outage
            // are still inside its loss window, so "back" is: not down, and datagrams received on
            // it after the return. 15 s bounds the rebuild (≤ 1 s) and first contact.
            let backAt = Date()
            let receivedBefore =
                await Self.status(namespace: edgeNS, address: address)?.tunnels.first?.links
                .first { $0.name == "wan1" }?.packetsReceived ?? 0
            try await Self.pair(1, edgeSide: wan1, hubSide: "sv\(tag)h1", edgeNS: edgeNS, hubNS: hubNS)
            let back = await eventually(15) {
                guard edge.log.contains("interface back: socket rebuilt"),
                    let link = await Self.status(namespace: edgeNS, address: address)?.tunnels.first?.links
                        .first(where: { $0.name == "wan1" })
                else { return false }
                return (link.state == "up" || link.state == "degraded") && link.packetsReceived > receivedBefore + 5
            }
            let backAfter = Date().timeIntervalSince(backAt)
            #expect(back, "edge log:\n\(edge.log.split(separator: "\n").suffix(25).joined(separator: "\n"))")
            let state = await view()?.states["wan1"] ?? "?"
            print(
                "vanished interface: link down and default class on wan2 "
                    + String(format: "%.2f", downAfter) + " s after the delete; wan1 alive again (\(state)) "
                    + String(format: "%.2f", backAfter) + " s after the interface returned"
            )
            _ = group
        }
    }
}
