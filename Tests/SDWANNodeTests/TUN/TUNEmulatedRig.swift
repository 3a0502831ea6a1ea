import Foundation

/// TUNRig's namespaces with the WAN emulator (`sdwan wanem`, docs/wanem.md) on the links' path:
/// it runs in the hub's namespace, its edge-facing sockets on the link veths' wildcard (link `a`
/// on port 40000, `b` on 40001), its hub-facing sockets and the hub on loopback.
///
/// ```
/// edge a 10.251.1.1 ─▶ 10.251.1.2:40000 ┐                      ┌▶ hub 127.0.0.1:51820
/// edge b 10.251.2.1 ─▶ 10.251.2.2:40001 ┴ wanem (H netns) ─────┘
/// ```
///
/// Link `a` has the shorter delay (2 ms against 10 ms each way), so the default class prefers it.
final class TUNEmulatedRig: @unchecked Sendable {
    let rig: TUNRig
    var wanem: Netns.Background?

    /// The UDP port of the iperf3 flow put in the FEC class, and that class's k.
    static let fecPort = 5_212
    static let fecK = 4

    init() throws { rig = try TUNRig(prefix: "x") }

    func start() async throws {
        try await rig.setUp()
        let topology = """
            name: e2e
            hub: { name: dc }
            branches:
              - name: store
                links:
                  - { name: a, kind: ethernet, delay: 2ms }
                  - { name: b, kind: ethernet, delay: 10ms }

            """
        try topology.write(toFile: "\(rig.directory)/topology.yaml", atomically: false, encoding: .utf8)
        wanem = try rig.background(
            "H",
            [
                rig.binary, "wanem", "--topology", "\(rig.directory)/topology.yaml", "--hub", "127.0.0.1:51820",
                "--listen", "0.0.0.0:40000", "--hub-facing", "127.0.0.1", "--seed", "13", "--duration", "120",
            ],
            log: "wanem.log"
        )
        guard await wanem!.waitForLog("control") else {
            throw Netns.CommandError(description: "wanem did not start: \(wanem!.log)")
        }
        try await startNodes()
    }

    /// The same classes on both ends (the class id on the wire is the position): iperf3's UDP
    /// flow to `fecPort` gets XOR FEC with k data packets per parity, stride 1.
    static let classes = """
        classes:
          - name: fecflow
            match: { protocol: [udp], destinationPorts: ["\(fecPort)"] }
            sla: { loss: 20% }
            fec: { k: \(fecK), stride: 1, budget: 50ms, adaptive: false }
          - { name: default, sla: { loss: 20% } }

        """

    /// An 8 s iperf3 TCP transfer paced at 20 Mbit/s from the branch host to the server, with a
    /// report every 0.5 s (JSON in `log`); the server is started first.
    func startTCPTransfer(log: String) async throws -> Netns.Background {
        _ = try rig.background("S", ["iperf3", "-s", "-p", "5211"], log: "iperf3-tcp-server.log")
        try await Task.sleep(for: .milliseconds(300))
        return try rig.background(
            "B",
            ["iperf3", "-c", TUNRig.serverV4, "-p", "5211", "-b", "20M", "-t", "8", "-i", "0.5", "-J"],
            log: log
        )
    }

    func startNodes() async throws {
        let hubKey = try await rig.key("hub")
        let edgeKey = try await rig.key("edge")
        let edgeConfig = """
            role: edge
            name: store
            identity: { private_key_file: \(edgeKey.path) }
            hub: { name: dc, public_key: "\(hubKey.publicKey)" }
            links:
              - { name: a, local: 10.251.1.1, hub_endpoint: "10.251.1.2:40000", mtu: \(TUNRig.linkMTUs.a) }
              - { name: b, local: 10.251.2.1, hub_endpoint: "10.251.2.2:40001", mtu: \(TUNRig.linkMTUs.b) }
            \(Self.classes)
            ingress:
              tun:
                name: \(rig.dev("tun"))
                addresses: [10.251.255.1/32, "fd51:ff::1/128"]
                routes: [10.251.20.0/24, "fd51:20::/64"]

            """
        let hubConfig = """
            role: hub
            name: dc
            identity: { private_key_file: \(hubKey.path) }
            listen: ["127.0.0.1:51820"]
            branches:
              - name: store
                public_key: "\(edgeKey.publicKey)"
                allowed_prefixes: [10.251.10.0/24, "fd51:10::/64", 10.251.255.1/32, "fd51:ff::1/128"]
            \(Self.classes)
            ingress:
              tun:
                name: \(rig.dev("tun"))
                addresses: [10.251.255.2/32, "fd51:ff::2/128"]

            """
        try edgeConfig.write(toFile: "\(rig.directory)/edge.yaml", atomically: false, encoding: .utf8)
        try hubConfig.write(toFile: "\(rig.directory)/hub.yaml", atomically: false, encoding: .utf8)
        let hub = try rig.background("H", [rig.binary, "hub", "--config", "\(rig.directory)/hub.yaml"], log: "hub.log")
        let edge = try rig.background(
            "E",
            [rig.binary, "edge", "--config", "\(rig.directory)/edge.yaml"],
            log: "edge.log"
        )
        rig.hub = hub
        rig.edge = edge
        let hubUp = await hub.waitForLog("TUN device up")
        let edgeUp = await edge.waitForLog("TUN device up")
        guard hubUp, edgeUp else {
            throw Netns.CommandError(description: "nodes did not start:\nedge: \(edge.log)\nhub: \(hub.log)")
        }
        for _ in 0..<20 {
            if try await rig.exec("B", ["ping", "-c", "1", "-W", "1", TUNRig.serverV4]).ok { return }
        }
        throw Netns.CommandError(
            description: "no ping across the tunnel:\nedge: \(edge.log)\nhub: \(hub.log)\nwanem: \(wanem?.log ?? "")"
        )
    }

    /// `sdwan wanem ctl …` against the emulator's control socket; throws unless it answers `ok`.
    func ctl(_ words: [String]) async throws {
        let out = try await rig.exec("H", [rig.binary, "wanem", "ctl", "--control", "127.0.0.1:39999"] + words)
        guard out.ok else {
            throw Netns.CommandError(description: "wanem ctl \(words): \(out.stdout) \(out.stderr)")
        }
    }

    /// Up-direction packets each link has relayed so far (from the emulator's ground truth).
    func upSent() async throws -> [String: Double] {
        let out = try await rig.exec("H", [rig.binary, "wanem", "ctl", "--control", "127.0.0.1:39999", "stats"])
        guard let data = out.stdout.data(using: .utf8),
            let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let links = root["links"] as? [[String: Any]]
        else { throw Netns.CommandError(description: "wanem stats: \(out.stdout) \(out.stderr)") }
        var result: [String: Double] = [:]
        for link in links {
            guard let name = link["name"] as? String, let up = link["up"] as? [String: Any],
                let relay = up["relay"] as? [String: Any], let sent = relay["sent"] as? NSNumber
            else { continue }
            result[name] = sent.doubleValue
        }
        return result
    }

    /// The link that relayed the most up-direction packets over `window` seconds (data dwarfs the
    /// probes' 10 per second).
    func activeLink(over window: Double) async throws -> String {
        let before = try await upSent()
        try await Task.sleep(for: .seconds(window))
        let after = try await upSent()
        let names = after.keys.sorted()
        guard let best = names.max(by: { (after[$0]! - (before[$0] ?? 0)) < (after[$1]! - (before[$1] ?? 0)) }) else {
            throw Netns.CommandError(description: "no links in wanem stats")
        }
        return best
    }

    func tearDown() async { await rig.tearDown() }
}
