import Foundation
import SDWANCore

#if canImport(Glibc)
import Glibc
#endif

/// branch netns → edge netns (sdwan edge, TUN) → two links through veths → hub netns (sdwan hub,
/// TUN) → server netns. Link `a` has an MTU of 1500, link `b` 1400, so the tunnel's inner MTU is
/// 1400 − 28 − 70 = 1302 while the LANs keep 1500: clamping and "too big" are at work.
///
/// | netns | addresses |
/// |---|---|
/// | branch (B) | 10.251.10.2/24, fd51:10::2/64 on `b0` |
/// | edge (E) | LAN 10.251.10.1, fd51:10::1 on `e0`; links 10.251.1.1 (`e1`), 10.251.2.1 (`e2`); TUN 10.251.255.1, fd51:ff::1 |
/// | hub (H) | links 10.251.1.2 (`h1`), 10.251.2.2 (`h2`); DC 10.251.20.1, fd51:20::1 on `s0`; TUN 10.251.255.2, fd51:ff::2 |
/// | server (S) | 10.251.20.2/24, fd51:20::2/64 on `s1` |
///
/// Names carry the test process's PID, so parallel runs cannot collide; `tearDown` removes the
/// namespaces (their veths go with them) and stops the processes it started, by PID.
final class TUNRig: @unchecked Sendable {
    let tag: String
    let directory: String
    let binary: String
    var processes: [Netns.Background] = []
    var edge: Netns.Background?
    var hub: Netns.Background?

    static let linkMTUs = (a: 1_500, b: 1_400)
    static let branchV4 = "10.251.10.2"
    static let branchV6 = "fd51:10::2"
    static let serverV4 = "10.251.20.2"
    static let serverV6 = "fd51:20::2"

    /// `prefix` keeps suites that may run at once in one process apart (device names ≤ 15 bytes).
    init(prefix: String = "t") throws {
        tag = "\(prefix)\(getpid() % 100_000)"
        directory = NSTemporaryDirectory() + "sdwan-tun-\(UUID().uuidString)"
        binary = try Self.findBinary()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func ns(_ role: String) -> String { "sdwan-\(tag)-\(role)" }
    func dev(_ role: String) -> String { "\(tag)\(role)" }

    /// The `sdwan` executable built beside the test bundle.
    static func findBinary() throws -> String {
        var candidates: [String] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(runner.appendingPathComponent("sdwan").path)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        for config in ["release", "debug"] { candidates.append(root.path + "/.build/\(config)/sdwan") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Netns.CommandError(description: "no sdwan executable in \(candidates)")
        }
        return found
    }

    /// Creates the namespaces, veths, addresses and routes.
    func setUp() async throws {
        await tearDownNamespaces()
        for role in ["B", "E", "H", "S"] {
            try await Netns.must(["ip", "netns", "add", ns(role)])
            try await Netns.must(["ip", "-n", ns(role), "link", "set", "lo", "up"])
        }
        func veth(_ a: String, _ nsA: String, _ b: String, _ nsB: String) async throws {
            try await Netns.must([
                "ip", "link", "add", dev(a), "netns", ns(nsA), "type", "veth", "peer", "name", dev(b), "netns", ns(nsB),
            ])
        }
        try await veth("b0", "B", "e0", "E")
        try await veth("e1", "E", "h1", "H")
        try await veth("e2", "E", "h2", "H")
        try await veth("s0", "H", "s1", "S")
        func address(_ role: String, _ cidr: String, _ device: String) async throws {
            try await Netns.must(
                ["ip", "-n", ns(role), "addr", "add", cidr, "dev", dev(device)] + (cidr.contains(":") ? ["nodad"] : [])
            )
        }
        try await address("B", "10.251.10.2/24", "b0")
        try await address("B", "fd51:10::2/64", "b0")
        try await address("E", "10.251.10.1/24", "e0")
        try await address("E", "fd51:10::1/64", "e0")
        try await address("E", "10.251.1.1/24", "e1")
        try await address("H", "10.251.1.2/24", "h1")
        try await address("E", "10.251.2.1/24", "e2")
        try await address("H", "10.251.2.2/24", "h2")
        try await address("H", "10.251.20.1/24", "s0")
        try await address("H", "fd51:20::1/64", "s0")
        try await address("S", "10.251.20.2/24", "s1")
        try await address("S", "fd51:20::2/64", "s1")
        for (role, device) in [("E", "e2"), ("H", "h2")] {
            try await Netns.must(["ip", "-n", ns(role), "link", "set", dev(device), "mtu", "\(Self.linkMTUs.b)"])
        }
        for (role, device) in [("B", "b0"), ("E", "e0"), ("E", "e1"), ("E", "e2"), ("H", "h1"), ("H", "h2")]
            + [("H", "s0"), ("S", "s1")]
        {
            try await Netns.must(["ip", "-n", ns(role), "link", "set", dev(device), "up"])
        }
        for role in ["E", "H"] {
            try await Netns.must([
                "ip", "netns", "exec", ns(role), "sysctl", "-qw", "net.ipv4.ip_forward=1",
                "net.ipv6.conf.all.forwarding=1",
            ])
        }
        try await Netns.must(["ip", "-n", ns("B"), "route", "add", "default", "via", "10.251.10.1"])
        try await Netns.must(["ip", "-n", ns("B"), "-6", "route", "add", "default", "via", "fd51:10::1"])
        try await Netns.must(["ip", "-n", ns("S"), "route", "add", "default", "via", "10.251.20.1"])
        try await Netns.must(["ip", "-n", ns("S"), "-6", "route", "add", "default", "via", "fd51:20::1"])
    }

    /// Generates a key with `sdwan genkey` into `directory/NAME.key` (mode 600): its path and
    /// public key.
    func key(_ name: String) async throws -> (path: String, publicKey: String) {
        let path = "\(directory)/\(name).key"
        let text = try await Netns.must([binary, "genkey"])
        _ = FileManager.default.createFile(
            atPath: path,
            contents: Data(text.utf8),
            attributes: [.posixPermissions: 0o600]
        )
        let pub = try await Netns.run([binary, "pubkey"], input: text)
        return (path, pub.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Writes keys and configs, starts hub and edge, waits until a ping crosses the tunnel.
    func startNodes() async throws {
        let hubKey = try await key("hub")
        let edgeKey = try await key("edge")
        let edgeConfig = """
            role: edge
            name: store
            identity: { private_key_file: \(edgeKey.path) }
            hub: { name: dc, public_key: "\(hubKey.publicKey)" }
            links:
              - { name: a, local: 10.251.1.1, hub_endpoint: "10.251.1.2:51820", mtu: \(Self.linkMTUs.a) }
              - { name: b, local: 10.251.2.1, hub_endpoint: "10.251.2.2:51820", mtu: \(Self.linkMTUs.b) }
            ingress:
              tun:
                name: \(dev("tun"))
                addresses: [10.251.255.1/32, "fd51:ff::1/128"]
                routes: [10.251.20.0/24, "fd51:20::/64"]

            """
        let hubConfig = """
            role: hub
            name: dc
            identity: { private_key_file: \(hubKey.path) }
            listen: ["10.251.1.2:51820", "10.251.2.2:51820"]
            branches:
              - name: store
                public_key: "\(edgeKey.publicKey)"
                allowed_prefixes: [10.251.10.0/24, "fd51:10::/64", 10.251.255.1/32, "fd51:ff::1/128"]
            ingress:
              tun:
                name: \(dev("tun"))
                addresses: [10.251.255.2/32, "fd51:ff::2/128"]

            """
        try edgeConfig.write(toFile: "\(directory)/edge.yaml", atomically: false, encoding: .utf8)
        try hubConfig.write(toFile: "\(directory)/hub.yaml", atomically: false, encoding: .utf8)
        hub = try background("H", [binary, "hub", "--config", "\(directory)/hub.yaml"], log: "hub.log")
        edge = try background("E", [binary, "edge", "--config", "\(directory)/edge.yaml"], log: "edge.log")
        let hubUp = await hub!.waitForLog("TUN device up")
        let edgeUp = await edge!.waitForLog("TUN device up")
        guard hubUp, edgeUp else {
            throw Netns.CommandError(description: "nodes did not start:\nedge: \(edge!.log)\nhub: \(hub!.log)")
        }
        for _ in 0..<20 {
            if try await exec("B", ["ping", "-c", "1", "-W", "1", Self.serverV4]).ok { return }
        }
        throw Netns.CommandError(description: "no ping across the tunnel:\nedge: \(edge!.log)\nhub: \(hub!.log)")
    }

    /// Runs a command inside a namespace.
    @discardableResult
    func exec(_ role: String, _ arguments: [String], timeout: Double = 20) async throws -> Netns.Output {
        try await Netns.run(["ip", "netns", "exec", ns(role)] + arguments, timeout: timeout)
    }

    /// Starts a long-running command inside a namespace; `tearDown` stops it.
    func background(_ role: String, _ arguments: [String], log: String) throws -> Netns.Background {
        let process = try Netns.Background(
            ["ip", "netns", "exec", ns(role)] + arguments,
            logPath: "\(directory)/\(log)"
        )
        processes.append(process)
        return process
    }

    /// Starts tshark in a namespace and waits until it captures; it stops by itself after `packets`
    /// packets or `seconds`.
    func capture(
        _ role: String,
        interfaces: [String],
        filter: String,
        fields: [String],
        log: String,
        packets: Int,
        seconds: Int
    )
        async throws -> Netns.Background
    {
        var arguments = ["tshark", "-l", "-n", "-c", "\(packets)", "-a", "duration:\(seconds)"]
        // A capture filter applies to the interface named before it: one per interface.
        for i in interfaces { arguments += ["-i", dev(i), "-f", filter] }
        arguments += ["-T", "fields"]
        for f in fields { arguments += ["-e", f] }
        let process = try background(role, arguments, log: log)
        guard await process.waitForLog("Capturing on", timeout: 15) else {
            throw Netns.CommandError(description: "tshark did not start: \(process.log)")
        }
        // tshark announces the capture a moment before dumpcap's filter is in place.
        try await Task.sleep(for: .milliseconds(500))
        return process
    }

    func tearDownNamespaces() async {
        for role in ["B", "E", "H", "S"] { _ = try? await Netns.run(["ip", "netns", "del", ns(role)]) }
    }

    func tearDown() async {
        let running = processes
        processes.removeAll()
        _ = try? await Netns.offPool { for process in running.reversed() { process.stop() } }
        await tearDownNamespaces()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
