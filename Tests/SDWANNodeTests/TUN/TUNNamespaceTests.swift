import Foundation
import SDWANConfig
import SDWANCore
import Testing

/// Real clients through edge and hub in TUN mode, in network namespaces (TUNRig). Root only; CI runs
/// as root. One rig for the whole scenario keeps the suite within ~30 s alone; beside the CPU-bound
/// suites it waits for the cooperative pool and may take minutes of wall time (the time limit).
@Suite(
    .serialized,
    .enabled(if: Netns.available && Netns.haveTools(["ping", "iperf3", "curl", "tshark", "python3"])),
    .timeLimit(.minutes(5))
)
struct TUNNamespaceTests {
    /// From the rig's link MTUs and the core's constants: smallest link MTU − outer IPv4/UDP (28) −
    /// tunnel overhead (36 transport + 3 frame + 10 parity fields + 21 DATA header = 70) = 1302.
    static let innerMTU = min(TUNRig.linkMTUs.a, TUNRig.linkMTUs.b) - 28 - (36 + 3 + 10 + 21)

    @Test func branchReachesServerThroughEdgeAndHubTUNs() async throws {
        #expect(Self.innerMTU == 1_302)
        let rig = try TUNRig()
        do {
            try await rig.setUp()
            try await rig.startNodes()
            try await pingBothFamilies(rig)
            try await oversizePingsGetTooBigBack(rig)
            try await voiceLeavesWithOuterDSCPEF(rig)
            try await httpDownloadAndClampedMSS(rig)
            try await mixedSizeBurstArrivesIntact(rig)
            try await iperf3TCPAndUDP(rig)
            let edgeLog = rig.edge?.log ?? ""
            #expect(!edgeLog.contains("error"), "edge log: \(edgeLog)")
        } catch {
            await rig.tearDown()
            throw error
        }
        await rig.tearDown()
    }

    func pingBothFamilies(_ rig: TUNRig) async throws {
        for target in [TUNRig.serverV4, TUNRig.serverV6] {
            let out = try await rig.exec("B", ["ping", "-c", "5", "-i", "0.2", "-W", "2", target])
            #expect(out.stdout.contains("5 received"), "ping \(target): \(out.stdout)")
        }
    }

    /// The server's DF ping above the branch's inner MTU crosses the hub's TUN (MTU 1402) and is
    /// answered by the hub with the branch's inner MTU; the branch's is refused by the edge's TUN
    /// (MTU = inner MTU) — no silent drop either way.
    func oversizePingsGetTooBigBack(_ rig: TUNRig) async throws {
        let v4 = try await rig.exec(
            "S",
            ["ping", "-c", "2", "-i", "0.3", "-W", "1", "-M", "do", "-s", "1372", TUNRig.branchV4]
        )
        #expect(v4.stdout.contains("Frag needed and DF set (mtu = \(Self.innerMTU))"), "\(v4.stdout)")
        let v6 = try await rig.exec(
            "S",
            ["ping", "-c", "2", "-i", "0.3", "-W", "1", "-M", "do", "-s", "1352", TUNRig.branchV6]
        )
        #expect(v6.stdout.contains("Packet too big: mtu=\(Self.innerMTU)"), "\(v6.stdout)")
        let edge = try await rig.exec(
            "B",
            ["ping", "-c", "2", "-i", "0.3", "-W", "1", "-M", "do", "-s", "1400", TUNRig.serverV4]
        )
        #expect(edge.stdout.contains("mtu = \(Self.innerMTU)"), "\(edge.stdout)")
        // Just under the inner MTU still crosses: 1302 − 20 − 8.
        let fits = try await rig.exec(
            "S",
            ["ping", "-c", "2", "-i", "0.3", "-W", "2", "-M", "do", "-s", "\(Self.innerMTU - 28)", TUNRig.branchV4]
        )
        #expect(fits.stdout.contains("2 received"), "\(fits.stdout)")
    }

    /// Voice (inner DSCP EF) leaves the edge with outer DSCP EF: a capture on both link veths.
    func voiceLeavesWithOuterDSCPEF(_ rig: TUNRig) async throws {
        let capture = try await rig.capture(
            "E",
            interfaces: ["e1", "e2"],
            // Outer IPv4 TOS byte with DSCP EF (0xB8 >> 2 = 46), longer than the probes.
            filter: "udp port 51820 and src net 10.251.0.0/16 and ip[1] & 0xfc = 0xb8 and greater 450",
            fields: ["ip.dsfield.dscp", "frame.len"],
            log: "dscp.txt",
            packets: 5,
            seconds: 30
        )
        // TOS 0xB8 = DSCP 46 (EF) << 2; 400-byte payloads so the data stands out from probes.
        let ping = try await rig.exec(
            "B",
            ["ping", "-c", "5", "-i", "0.2", "-Q", "0xb8", "-s", "400", TUNRig.serverV4]
        )
        #expect(ping.stdout.contains("5 received"), "\(ping.stdout)")
        await capture.wait(timeout: 30)
        var rows: [[String]] = []
        for line in capture.log.split(separator: "\n") {
            let f = line.split(separator: "\t").map(String.init)
            if f.count == 2 { rows.append(f) }
        }
        let voice = rows.filter { $0[0] == "46" && (Int($0[1]) ?? 0) > 400 }
        #expect(voice.count >= 5, "outer DSCP of the capture: \(rows)")
    }

    /// curl fetches a file from python3's http.server over IPv4 and IPv6; the server sees the
    /// client's SYN with its MSS clamped to the inner MTU (− 40 for IPv4, − 60 for IPv6).
    func httpDownloadAndClampedMSS(_ rig: TUNRig) async throws {
        let root = rig.directory + "/www"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var bytes = [UInt8](repeating: 0, count: 300_000)
        var random = SeededRandomSource(seed: 12)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &random) }
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/blob"))
        let server = try rig.background(
            "S",
            ["python3", "-u", "-m", "http.server", "8080", "--bind", "::", "--directory", root],
            log: "http.log"
        )
        let serving = await server.waitForLog("Serving HTTP")
        #expect(serving, "http.server: \(server.log)")
        let capture = try await rig.capture(
            "S",
            interfaces: ["s1"],
            // SYN and SYN-ACK only (TCP flags byte: 13 bytes into TCP after a 20-byte IPv4 or a
            // 40-byte IPv6 header): the two handshakes are the capture's first four packets.
            filter: "tcp port 8080 and ((ip and tcp[13] & 2 != 0) or (ip6 and ip6[53] & 2 != 0))",
            fields: ["tcp.flags.syn", "tcp.flags.ack", "ip.src", "ipv6.src", "tcp.options.mss_val"],
            log: "mss.txt",
            packets: 4,
            seconds: 30
        )
        for (i, url) in ["http://10.251.20.2:8080/blob", "http://[fd51:20::2]:8080/blob"].enumerated() {
            let path = rig.directory + "/fetched\(i)"
            var fetched: Netns.Output?
            for _ in 0..<20 {
                fetched = try await rig.exec("B", ["curl", "-sS", "--max-time", "10", "-o", path, url], timeout: 15)
                if fetched!.ok { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let body = FileManager.default.contents(atPath: path)
            #expect(
                fetched?.ok == true && body == Data(bytes),
                "curl \(url): \(fetched?.stderr ?? "") \(body?.count ?? -1) bytes"
            )
        }
        await capture.wait(timeout: 30)
        // Client SYNs (syn = 1, ack = 0): source v4, source v6, MSS.
        var v4: [String] = []
        var v6: [String] = []
        for line in capture.log.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5, f[0] == "1", f[1] == "0" else { continue }
            if f[2] == TUNRig.branchV4 { v4.append(f[4]) }
            if f[3] == TUNRig.branchV6 { v6.append(f[4]) }
        }
        #expect(!v4.isEmpty && v4.allSatisfy { $0 == "\(Self.innerMTU - 40)" }, "IPv4 SYN MSS: \(v4) \(capture.log)")
        #expect(!v6.isEmpty && v6.allSatisfy { $0 == "\(Self.innerMTU - 60)" }, "IPv6 SYN MSS: \(v6)")
    }

    /// A burst of UDP datagrams whose IP sizes are spread over 60 … inner MTU, each with a
    /// distinct pseudo-random payload, echoed by the server and checked byte for byte.
    func mixedSizeBurstArrivesIntact(_ rig: TUNRig) async throws {
        _ = try rig.background("S", ["python3", "-c", Self.echoServer], log: "echo.log")
        try await Task.sleep(for: .milliseconds(300))
        for (target, header) in [(TUNRig.serverV4, 28), (TUNRig.serverV6, 48)] {
            let out = try await rig.exec(
                "B",
                ["python3", "-c", Self.burstClient, target, "\(60 - 28 + header)", "\(Self.innerMTU - header)", "400"],
                timeout: 30
            )
            let words = out.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
            let fields = words.compactMap { Int($0) }
            #expect(fields.count == 3, "burst client: \(out.stdout) \(out.stderr)")
            guard fields.count == 3 else { continue }
            let (sent, intact, corrupt) = (fields[0], fields[1], fields[2])
            #expect(corrupt == 0, "corrupted echoes to \(target)")
            // Loss is not what this checks, but a burst of 400 on idle veths should lose nothing;
            // allow 1 % for a busy machine.
            #expect(intact * 100 >= sent * 99, "intact \(intact) of \(sent) to \(target)")
        }
    }

    /// iperf3 TCP and UDP for 1 s each, branch → server, both paced (20 and 10 Mbit/s) so the
    /// timing-sensitive live suites running beside this one keep their CPU; throughput is
    /// scripts/bench-tun's job.
    func iperf3TCPAndUDP(_ rig: TUNRig) async throws {
        _ = try rig.background("S", ["iperf3", "-s", "-p", "5211"], log: "iperf3.log")
        try await Task.sleep(for: .milliseconds(300))
        let tcp = try await rig.exec(
            "B",
            ["iperf3", "-c", TUNRig.serverV4, "-p", "5211", "-b", "20M", "-t", "1", "-J"],
            timeout: 20
        )
        let tcpRate = Self.jsonNumber(tcp.stdout, path: ["end", "sum_received", "bits_per_second"])
        #expect((tcpRate ?? 0) > 5e6, "iperf3 TCP: \(tcpRate ?? -1) bit/s \(tcp.stderr)")
        let udp = try await rig.exec(
            "B",
            ["iperf3", "-c", TUNRig.serverV4, "-p", "5211", "-u", "-b", "10M", "-l", "1200", "-t", "1", "-J"],
            timeout: 20
        )
        let lost = Self.jsonNumber(udp.stdout, path: ["end", "sum", "lost_percent"])
        #expect(lost != nil && lost! <= 2, "iperf3 UDP lost %: \(lost ?? -1) \(udp.stderr)")
        print("TUN namespace test: iperf3 TCP \(Int((tcpRate ?? 0) / 1e6)) Mbit/s, UDP 10 Mbit/s lost \(lost ?? -1) %")
    }

    static func jsonNumber(_ text: String, path: [String]) -> Double? {
        guard let data = text.data(using: .utf8), var node = try? JSONSerialization.jsonObject(with: data) else {
            return nil
        }
        for key in path {
            guard let next = (node as? [String: Any])?[key] else { return nil }
            node = next
        }
        return (node as? NSNumber)?.doubleValue
    }

    static let echoServer = """
        import socket, select
        socks = []
        for fam, addr in ((socket.AF_INET, "10.251.20.2"), (socket.AF_INET6, "fd51:20::2")):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind((addr, 7007))
            socks.append(s)
        while True:
            for s in select.select(socks, [], [])[0]:
                data, peer = s.recvfrom(65535)
                s.sendto(data, peer)
        """

    /// argv: target, smallest payload, largest payload, count. Prints "sent intact corrupt".
    static let burstClient = """
        import socket, sys, random, time
        target, low, high, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        fam = socket.AF_INET6 if ":" in target else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.connect((target, 7007))
        rng = random.Random(7)
        sent = {}
        for i in range(count):
            size = low + (i * 7919) % (high - low + 1)
            body = i.to_bytes(4, "big") + bytes(rng.getrandbits(8) for _ in range(size - 4))
            sent[i] = body
            s.send(body)
            if i % 50 == 49: time.sleep(0.01)
        intact = corrupt = 0
        s.settimeout(2.0)
        try:
            while intact + corrupt < count:
                data = s.recv(65535)
                i = int.from_bytes(data[:4], "big")
                if sent.get(i) == data: intact += 1
                else: corrupt += 1
        except socket.timeout:
            pass
        print(count, intact, corrupt)
        """
}
