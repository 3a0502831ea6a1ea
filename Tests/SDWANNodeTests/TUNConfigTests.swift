import SDWANConfig
import SDWANCore
import SDWANIO
import Testing

/// `ingress.tun` on edge and hub: defaults computed from the links, errors with file, line and field,
/// and the inner-MTU arithmetic (docs/operations.md, "MTU").
struct TUNConfigTests {
    static let key = NodeConfigTests.key

    static func edge(links: String, tun: String) -> String {
        """
        role: edge
        name: store1
        identity: { private_key_file: /etc/sdwan/edge.key }
        hub: { name: hub1, public_key: "\(key)", endpoint: "192.0.2.1:51820" }
        links:
        \(links)
        ingress:
          tun:
        \(tun)
        """
    }

    static func edgeConfig(_ text: String) throws -> EdgeConfig {
        guard case .edge(let c) = try NodeConfig.parse(text, file: "edge.yaml") else {
            throw ConfigError(file: "edge.yaml", line: nil, column: nil, field: "", problem: "not an edge")
        }
        return c
    }

    /// Inner MTU = smallest link MTU − outer IP/UDP (28 IPv4, 48 IPv6) − transport header, timestamp
    /// and tag (16 + 4 + 16) − PARITY frame header and fields (3 + 10) − the largest DATA header (21).
    @Test(arguments: [
        ([1_500], false, 1_500 - 28 - 36 - 13 - 21),
        ([1_500], true, 1_500 - 48 - 36 - 13 - 21),
        ([1_500, 1_492], false, 1_492 - 28 - 36 - 13 - 21),
        ([1_500, 1_400], false, 1_400 - 28 - 36 - 13 - 21),
        ([9_000, 1_280], true, 1_280 - 48 - 36 - 13 - 21),
    ])
    func innerMTUIsTheSmallestLinkMinusEveryHeader(mtus: [Int], ipv6Outer: Bool, expected: Int) {
        let links = mtus.enumerated().map { i, mtu in
            EngineLinkConfiguration(id: UInt8(i + 1), name: "l\(i)", mtu: mtu, ipv6Outer: ipv6Outer)
        }
        #expect(EngineConfiguration(links: links).innerMTU == expected)
        #expect(TUNConfig.tunnelOverhead == 70)
    }

    /// A packet of exactly the inner MTU, as a DATA frame with the largest header, and as the PARITY
    /// frame protecting it, fits the smallest link's UDP payload with the transport overhead, and
    /// the budget wastes at most the 6 bytes a DATA header has beyond the member parity protects.
    @Test(arguments: [(1_500, false), (1_400, false), (1_280, true)])
    func largestFramesOfAnInnerMTUPacketFitTheSmallestLink(mtu: Int, ipv6Outer: Bool) {
        let link = EngineLinkConfiguration(id: 1, name: "l", mtu: mtu, ipv6Outer: ipv6Outer)
        let inner = EngineConfiguration(links: [link]).innerMTU
        let budget = mtu - link.outerHeaderLength
        let data = WireFormat.transportOverhead + WireFormat.frameHeaderLength + DataFrameHeader.maximumLength + inner
        let parity =
            WireFormat.transportOverhead
            + ParityFrame.frameLength(longestMember: DataMemberHeader.maximumLength + inner)
        #expect(data <= budget)
        #expect(parity <= budget)
        #expect(max(data, parity) >= budget - 6, "the budget wastes at most the 6 bytes DATA adds over a member")
    }

    @Test func edgeTUNDefaultsToTheInnerMTUAndAnswersFromItsAddresses() throws {
        let c = try Self.edgeConfig(
            Self.edge(
                links: "  - { name: a, mtu: 1500 }\n  - { name: b, mtu: 1400 }",
                tun: """
                        name: sdwan0
                        addresses: [10.1.255.1/32, "fd00:1:ff::1/128"]
                        routes: [10.200.0.0/16, "fd00:200::/48"]
                    """
            )
        )
        let tun = try #require(c.tun)
        #expect(tun.name == "sdwan0")
        #expect(tun.mtu == 1_400 - 28 - 70)
        #expect(!tun.mtuIsExplicit)
        #expect(tun.addresses.map(\.description) == ["10.1.255.1/32", "fd00:1:ff::1/128"])
        #expect(tun.routes.map(\.description) == ["10.200.0.0/16", "fd00:200::/48"])
        #expect(c.engineConfiguration.routerAddressV4 == IPAddress("10.1.255.1"))
        #expect(c.engineConfiguration.routerAddressV6 == IPAddress("fd00:1:ff::1"))
        #expect(c.engineConfiguration.innerMTU == tun.mtu)
        let commands = TUNInterface.commands(name: tun.name, mtu: tun.mtu, addresses: tun.addresses, routes: tun.routes)
        #expect(commands.first == ["link", "set", "dev", "sdwan0", "mtu", "1302"])
        #expect(commands.contains(["-6", "addr", "add", "fd00:1:ff::1/128", "dev", "sdwan0", "nodad"]))
        #expect(commands.last == ["-6", "route", "replace", "fd00:200::/48", "dev", "sdwan0"])
    }

    /// A reload's `ip` commands: new addresses and routes first, then the ones gone, nothing for
    /// what stays.
    @Test func reloadChangesAddWhatIsNewThenDeleteWhatIsGone() throws {
        let a = try #require(InterfaceAddress("10.1.255.1/32"))
        let b = try #require(InterfaceAddress("fd00:1:ff::1/128"))
        let c = try #require(InterfaceAddress("10.1.255.9/32"))
        let kept = try #require(IPPrefix("10.200.0.0/16"))
        let gone = try #require(IPPrefix("fd00:200::/48"))
        let new = try #require(IPPrefix("10.3.0.0/24"))
        let commands = TUNInterface.changeCommands(
            name: "t0",
            addresses: ([a, b], [a, c]),
            routes: ([kept, gone], [kept, new])
        )
        #expect(
            commands == [
                ["-4", "addr", "add", "10.1.255.9/32", "dev", "t0"],
                ["-4", "route", "replace", "10.3.0.0/24", "dev", "t0"],
                ["-6", "route", "del", "fd00:200::/48", "dev", "t0"],
                ["-6", "addr", "del", "fd00:1:ff::1/128", "dev", "t0"],
            ]
        )
        #expect(TUNInterface.changeCommands(name: "t0", addresses: ([a], [a]), routes: ([kept], [kept])).isEmpty)
    }

    @Test func hubTUNRoutesEveryBranchPrefixByDefault() throws {
        let text = NodeConfigTests.hub(
            branches: """
                  - { name: a, public_key: "\(NodeConfigTests.key)", allowed_prefixes: [10.1.0.0/24, "fd00:1::/64"] }
                  - { name: b, public_key: "\(NodeConfigTests.key2)", allowed_prefixes: [10.2.0.0/24] }
                ingress:
                  tun: { name: dc0, addresses: [10.255.0.1/32] }
                """
        )
        guard case .hub(let c) = try NodeConfig.parse(text, file: "hub.yaml") else {
            Issue.record("not a hub")
            return
        }
        let tun = try #require(c.tun)
        #expect(tun.routes.map(\.description) == ["10.1.0.0/24", "fd00:1::/64", "10.2.0.0/24"])
        #expect(tun.mtu == 1_500 - 28 - 70)
        #expect(c.engineConfiguration.routerAddressV4 == IPAddress("10.255.0.1"))
    }

    @Test(arguments: [
        (
            "    name: sdwan-interface-name0", 9, "ingress.tun.name",
            "`sdwan-interface-name0` is not an interface name"
        ),
        ("    name: t0\n    addresses: [10.1.0.1]\n    mtu: 1403", 11, "ingress.tun.mtu", "MTU 1403 is out of range"),
        (
            "    name: t0\n    addresses: [\"fd00::1/64\"]\n    mtu: 1279", 11, "ingress.tun.mtu",
            "MTU 1279 is out of range"
        ),
        (
            "    name: t0\n    addresses: [10.1.0.1/33]", 10, "ingress.tun.addresses[0]",
            "`10.1.0.1/33` is not an address with a prefix length"
        ),
        ("    name: t0\n    routes: [10.2.0.1/16]", 10, "ingress.tun.routes[0]", "`10.2.0.1/16` is not a prefix"),
        ("    name: t0\n    mtux: 1400", 10, "ingress.tun.mtux", "unknown field `mtux`"),
    ])
    func badTUNBlockNamesLineFieldAndProblem(tun: String, line: Int, field: String, problem: String) throws {
        let error = try #require(NodeConfigTests.error(Self.edge(links: "  - { name: a }", tun: tun)))
        #expect(error.line == line)
        #expect(error.field == field)
        #expect(error.problem == problem)
    }

    @Test func ipv6InsideNeedsAnInnerMTUOfAtLeast1280() {
        // 1349 − 28 − 70 = 1251 < 1280.
        let error = NodeConfigTests.error(
            Self.edge(links: "  - { name: a, mtu: 1349 }", tun: "    name: t0\n    addresses: [\"fd00::1/64\"]")
        )
        #expect(error?.field == "ingress.tun")
        #expect(error?.problem.contains("1251") == true)
    }
}
