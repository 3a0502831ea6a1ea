import Foundation
import SDWANConfig
import SDWANCore

/// What `sdwan demo` runs: the retail branch's three links through the WAN emulator, four kinds of
/// traffic on UDP port forwards, and a timeline that degrades broadband, blacks out MPLS and brings
/// it back. The same plan is written as a simulator scenario in simulator/demo-retail.yaml; keep
/// them in step (docs/live-vs-sim.md).
struct DemoPlan: Sendable {
    /// Seconds of traffic; the timeline scales with it (docs/demo.md).
    var duration: Double

    /// G.711-like calls per voice class: 50 packets/s of 200 bytes each (20 ms).
    static let calls = 4
    static let voiceInterval = 0.020
    static let voiceSize = 200
    /// POS: one 300-byte request every 500 ms, one 600-byte response.
    static let posInterval = 0.5
    static let posRequestSize = 300
    static let posResponseSize = 600
    /// A response later than this is a failed transaction.
    static let posTimeout = 1.0
    /// Bulk: 1200-byte packets, AIMD between these rates.
    static let bulkSize = 1_200
    static let bulkMinBitsPerSecond = 250_000.0
    static let bulkMaxBitsPerSecond = 3_000_000.0

    /// LTE's loss in the preset (REFERENCE.md, "LTE typical": 1 %, mean burst 3): the worst link
    /// voice may use.
    static let lteLoss = 0.01
    static let lteBurst = 3.0
    /// The degrade the timeline applies to broadband (both directions): Gilbert–Elliott loss.
    static let degradeLoss = 0.05
    static let degradeBurst = 3.0
    /// The voice class's XOR FEC (docs/fec.md): k data + 1 parity, members `stride` apart.
    static let fecK = 4
    static let fecStride = 4
    static let fecBudgetMs = 80

    /// Path monitor defaults (docs/path-selection.md): interval I, M missed, base, N × SRTT.
    static let probeIntervalMs = 100.0
    static let missed = 3.0
    static let silenceBaseMs = 100.0
    static let rttMultiplier = 4.0
    /// MPLS RTT from the preset (REFERENCE.md: 30–60 ms; the preset's 2 × 20 ms).
    static let mplsRTTMs = 40.0

    /// Offsets from the start of traffic, in seconds.
    var degradeAt: Double { (duration * 0.2).rounded() }
    var cutAt: Double { (duration * 0.45).rounded() }
    var restoreAt: Double { (duration * 0.7).rounded() }
    /// Sources stop this long before the end, so that what is in flight arrives.
    static let drain = 1.5

    /// Detection window: max(M × I, base + N × SRTT) (docs/path-selection.md, liveness), with the
    /// SRTT the edge's monitor had for MPLS just before the cut (the preset's 40 ms if unknown):
    /// on a loaded machine the processes' own delays add to the emulated RTT.
    static func detectionMs(srttMs: Double?) -> Double {
        max(missed * probeIntervalMs, silenceBaseMs + rttMultiplier * (srttMs ?? mplsRTTMs))
    }

    /// The longest voice gap allowed at the blackout: the detection window, + one selection tick
    /// (100 ms), + 200 ms for the new link's one-way delay (LTE 27 ms + jitter), one 20 ms packet
    /// interval and the timer and scheduling slack of four processes on a loaded 2-core machine.
    static func failoverBoundMs(srttMs: Double?) -> Double { detectionMs(srttMs: srttMs) + 100 + 200 }

    /// The timeline as `sdwan wanem ctl` commands, in order.
    var events: [(at: Double, label: String, command: String)] {
        [
            (
                degradeAt, "broadband degrades: \(Int(Self.degradeLoss * 100)) % bursty loss (mean burst 3)",
                "broadband loss \(Int(Self.degradeLoss * 100))% burst \(Int(Self.degradeBurst))"
            ),
            (cutAt, "MPLS blacks out", "mpls down"),
            (restoreAt, "MPLS returns", "mpls up"),
        ]
    }

    /// The `classes:` block both ends run, taken verbatim from simulator/demo-retail.yaml so that
    /// the live run and the simulated one cannot drift apart (docs/live-vs-sim.md): voice on MPLS
    /// with LTE as its backup (a common retail policy: broadband carries the rest) with XOR FEC;
    /// the same calls on a class without protection; POS duplicated on two links; bulk balanced off
    /// metered links. Checked against what the expectations assume (voice's k and links).
    static func classesBlock(scenarioPath: String) throws -> String {
        guard let text = try? String(contentsOfFile: scenarioPath, encoding: .utf8) else {
            throw DemoError("cannot read \(scenarioPath)")
        }
        // The top-level `classes:` key and its indented lines, up to the next top-level key.
        var block: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if block.isEmpty {
                if line.hasPrefix("classes:") { block.append(line) }
            } else if line.first.map({ $0 == " " || $0 == "#" }) ?? true {
                block.append(line)
            } else {
                break
            }
        }
        let yaml = block.joined(separator: "\n") + "\n"
        let table: ClassTable
        do {
            let root = try ConfigDocument.parse(yaml, file: scenarioPath)
            guard case .mapping = root.node, let value = try root.mapping(allowing: ["classes"])["classes"] else {
                throw DemoError("\(scenarioPath): no top-level `classes:` block")
            }
            table = try ClassTable.decode(value, linkNames: ["mpls", "broadband", "lte"])
        } catch let error as ConfigError {
            throw DemoError("\(error)")
        }
        let names = table.classes.map(\.name)
        for needed in ["voice", "voice-bare", "transactional", "bulk"] where !names.contains(needed) {
            throw DemoError("\(scenarioPath): the demo's forwards need a class `\(needed)`; found \(names)")
        }
        let voice = table.index(of: "voice")!
        guard table.fec[voice]?.groupSize == fecK, table.classes[voice].allowedLinks == ["mpls", "lte"],
            table.classes[table.index(of: "voice-bare")!].allowedLinks == ["mpls", "lte"]
        else {
            throw DemoError(
                "\(scenarioPath): the demo's expectations assume voice and voice-bare on [mpls, lte] and voice's "
                    + "fec k = \(fecK); update DemoPlan with the file"
            )
        }
        return yaml
    }
}

/// Loopback ports the demo's processes use, probed free just before start.
struct DemoPorts: Sendable {
    var hub: Int
    /// First edge-facing port of the emulator; link i uses + i.
    var wanemBase: Int
    var control: Int
    var edgeStatus: Int
    var hubStatus: Int
    /// The edge's forward listen ports: voice calls, bare voice calls, POS, bulk.
    var voice: Int
    var voiceBare: Int
    var pos: Int
    var bulk: Int

    /// Finds a block of 12 consecutive ports free for UDP and TCP on 127.0.0.1, below the kernel's
    /// ephemeral range (32768…) so that sockets bound to port 0 do not take them meanwhile.
    static func probe() throws -> DemoPorts {
        var random = SystemRandomSource()
        for _ in 0..<50 {
            let base = Int.random(in: 20_000..<32_000, using: &random)
            if (base..<(base + 12)).allSatisfy({ portIsFree($0) }) {
                return DemoPorts(
                    hub: base,
                    wanemBase: base + 1,
                    control: base + 4,
                    edgeStatus: base + 5,
                    hubStatus: base + 6,
                    voice: base + 7,
                    voiceBare: base + 8,
                    pos: base + 9,
                    bulk: base + 10
                )
            }
        }
        throw DemoError("no block of 12 free loopback ports found in 20000…32000")
    }

    private static func portIsFree(_ port: Int) -> Bool {
        for type in [SOCK_DGRAM, SOCK_STREAM] {
            let fd = socket(AF_INET, Int32(type.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if !bound { return false }
        }
        return true
    }
}

/// An error of the demo's own, printed as is.
struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The config files of one demo run (docs/operations.md's schema).
enum DemoConfigs {
    static func hub(keys: DemoKeys, ports: DemoPorts, sinks: [Int], classes: String) -> String {
        """
        role: hub
        name: dc-hub
        identity: { private_key_file: "\(keys.hubKey)" }
        listen: ["127.0.0.1:\(ports.hub)"]
        branches:
          - name: store-12
            public_key: \(keys.edgePublic)
            psk_file: "\(keys.psk)"
            allowed_prefixes: [10.12.0.0/24]
        udp_targets:
          allowed: [\(sinks.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", "))]
        \(classes)status: { listen: "127.0.0.1:\(ports.hubStatus)" }

        """
    }

    /// Links as topologies/retail-branch.yaml has them (tier, cost, metered, MTU), each pointed at
    /// its emulator port instead of the hub.
    static func edge(keys: DemoKeys, ports: DemoPorts, sinks: DemoSinkPorts, classes: String) -> String {
        let links = [
            "{ name: mpls, local: \"127.0.0.1\", hub_endpoint: \"127.0.0.1:\(ports.wanemBase)\", tier: 1, cost: 10 }",
            "{ name: broadband, local: \"127.0.0.1\", hub_endpoint: \"127.0.0.1:\(ports.wanemBase + 1)\", tier: 1, cost: 1 }",
            "{ name: lte, local: \"127.0.0.1\", hub_endpoint: \"127.0.0.1:\(ports.wanemBase + 2)\", tier: 2, cost: 50, "
                + "metered: true, mtu: 1428 }",
        ]
        return """
            role: edge
            name: store-12
            identity: { private_key_file: "\(keys.edgeKey)" }
            hub: { name: dc-hub, public_key: \(keys.hubPublic), psk_file: "\(keys.psk)", endpoint: "127.0.0.1:\(ports.hub)" }
            links:
            \(links.map { "  - \($0)" }.joined(separator: "\n"))
            \(classes)ingress:
              address: 10.12.0.1
              udp_forwards:
                - { name: voice, listen: "127.0.0.1:\(ports.voice)", target: "127.0.0.1:\(sinks.voice)", class: voice }
                - { name: voice-bare, listen: "127.0.0.1:\(ports.voiceBare)", target: "127.0.0.1:\(sinks.voiceBare)", class: voice-bare }
                - { name: pos, listen: "127.0.0.1:\(ports.pos)", target: "127.0.0.1:\(sinks.pos)", class: transactional }
                - { name: bulk, listen: "127.0.0.1:\(ports.bulk)", target: "127.0.0.1:\(sinks.bulk)", class: bulk }
            status: { listen: "127.0.0.1:\(ports.edgeStatus)" }

            """
    }
}

/// The sinks' ports on the hub's side (the forwards' targets).
struct DemoSinkPorts: Sendable {
    var voice: Int
    var voiceBare: Int
    var pos: Int
    var bulk: Int
    var all: [Int] { [voice, voiceBare, pos, bulk] }
}

/// Key files of one run, written mode 0600 into the run's private directory.
struct DemoKeys {
    var hubKey: String
    var edgeKey: String
    var psk: String
    var hubPublic: PublicKey
    var edgePublic: PublicKey

    init(directory: String) throws {
        var random = SystemRandomSource()
        let hub = PrivateKey.generate(using: &random)
        let edge = PrivateKey.generate(using: &random)
        hubPublic = hub.publicKey
        edgePublic = edge.publicKey
        hubKey = try DemoFiles.writePrivate(hub.base64ForKeyFile(), to: "\(directory)/hub.key")
        edgeKey = try DemoFiles.writePrivate(edge.base64ForKeyFile(), to: "\(directory)/edge.key")
        psk = try DemoFiles.writePrivate(
            PresharedKey.generate(using: &random).base64ForKeyFile(),
            to: "\(directory)/store-12.psk"
        )
    }
}

enum DemoFiles {
    /// Writes `text` to `path` with mode 0600 from the first byte (O_CREAT with 0600, no umask race).
    static func writePrivate(_ text: String, to path: String) throws -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DemoError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw DemoError("cannot write \(path)") }
        fchmod(fd, 0o600)
        return path
    }

    /// A private (0700) temporary directory.
    static func makeWorkDirectory() throws -> String {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sdwan-demo-XXXXXX").path
        var template = Array(base.utf8CString)
        guard let made = mkdtemp(&template) else {
            throw DemoError("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}
