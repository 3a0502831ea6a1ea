import SDWANConfig
import SDWANCore
import Testing

/// `hubs:` on the edge (docs/operations.md "hubs"): decoding, the single `hub:` as a one-element
/// list, and the errors `sdwan check` gives.
struct HubListConfigTests {
    static let keyA = NodeConfigTests.key
    static let keyB = NodeConfigTests.key2

    static func edge(hubs: String, links: String = defaultLinks, extra: String = "") -> String {
        """
        role: edge
        name: store1
        identity: { private_key_file: /etc/sdwan/edge.key }
        \(hubs)
        links:
        \(links)
        \(extra)
        """
    }

    static let defaultLinks = """
          - { name: fiber, local: "192.0.2.10:0" }
          - { name: lte, local: "[2001:db8::10]:0" }
        """

    static let twoHubs = """
        hubs:
          - name: hub-a
            public_key: "\(keyA)"
            psk_file: /etc/sdwan/a.psk
            endpoint: 203.0.113.1:51820
            endpoints: { lte: "[2001:db8:a::1]:51820" }
          - name: hub-b
            public_key: "\(keyB)"
            endpoints: { fiber: 198.51.100.1:51820, lte: "[2001:db8:b::1]:51820" }
        """

    static func edgeConfig(_ text: String) throws -> EdgeConfig {
        guard case .edge(let config) = try NodeConfig.parse(text, file: "edge.yaml") else {
            throw NodeConfigTestsFailure()
        }
        return config
    }

    struct NodeConfigTestsFailure: Error {}

    @Test func twoHubsResolveAnEndpointPerLinkInListOrder() throws {
        let config = try Self.edgeConfig(Self.edge(hubs: Self.twoHubs, extra: "hub_selection: { hold_down: 30s }"))
        #expect(config.hubs.map(\.name) == ["hub-a", "hub-b"])
        let fiber = config.links[0]
        let lte = config.links[1]
        #expect(config.hubs[0].endpoint(for: fiber) == UDPEndpoint("203.0.113.1:51820"))
        #expect(config.hubs[0].endpoint(for: lte) == UDPEndpoint("[2001:db8:a::1]:51820"))
        #expect(config.hubs[1].endpoint(for: fiber) == UDPEndpoint("198.51.100.1:51820"))
        #expect(config.hubs[1].endpoint(for: lte) == UDPEndpoint("[2001:db8:b::1]:51820"))
        // The links' own hub endpoint is the first hub's; each tunnel aims at its hub.
        #expect(fiber.hubEndpoint == UDPEndpoint("203.0.113.1:51820"))
        let toB = config.engineConfiguration(hub: 1)
        #expect(
            toB.links.map(\.destination) == [UDPEndpoint("198.51.100.1:51820"), UDPEndpoint("[2001:db8:b::1]:51820")]
        )
        #expect(config.hubSelection.holdDown == .seconds(30))
        #expect(config.hubSelection.maxHoldDown == .seconds(160))
        #expect(config.hubPSKField(0) == "hubs[0].psk_file")
    }

    @Test func singleHubIsAOneElementListWithTheLinksOwnEndpoints() throws {
        let text = Self.edge(
            hubs: "hub: { name: hub1, public_key: \"\(Self.keyA)\", endpoint: 203.0.113.1:51820 }",
            links: """
                  - { name: fiber, local: "192.0.2.10:0" }
                  - { name: lte, local: "[2001:db8::10]:0", hub_endpoint: "[2001:db8:a::1]:51820" }
                """
        )
        let config = try Self.edgeConfig(text)
        #expect(config.hubs.count == 1)
        #expect(config.hub.name == "hub1")
        #expect(config.hubs[0].endpoint(for: config.links[1]) == UDPEndpoint("[2001:db8:a::1]:51820"))
        #expect(config.hubPSKField(0) == "hub.psk_file")
        #expect(config.hubSelection == HubSelector.Configuration())
    }

    @Test(arguments: [
        (
            twoHubs.replacingOccurrences(of: "name: hub-b", with: "name: hub-a"),
            "hubs[1].name", "hub name `hub-a` is used twice"
        ),
        (
            twoHubs.replacingOccurrences(of: "\"\(keyB)\"", with: "\"\(keyA)\""),
            "hubs[1].public_key", "hub `hub-a` has the same public key"
        ),
        (
            twoHubs.replacingOccurrences(of: "fiber: 198.51.100.1:51820", with: "fiber: 203.0.113.1:51820"),
            "hubs[1]", "hubs `hub-a` and `hub-b` share 203.0.113.1:51820 on link `fiber`"
        ),
        (
            twoHubs.replacingOccurrences(of: "fiber: 198.51.100.1:51820, ", with: ""),
            "hubs[1].endpoint", "required field `endpoint` is missing"
        ),
        (
            twoHubs.replacingOccurrences(of: "{ fiber: 198.51.100.1:51820", with: "{ fibre: 198.51.100.1:51820"),
            "hubs[1].endpoints.fibre", "unknown field `fibre`"
        ),
        (
            twoHubs.replacingOccurrences(of: "lte: \"[2001:db8:b::1]:51820\"", with: "lte: 198.51.100.2:51820"),
            "hubs[1]", "hub `hub-b`'s endpoint 198.51.100.2:51820 for link `lte` is not of the link's family"
        ),
        (
            twoHubs + "\nhub: { name: x, public_key: \"\(keyA)\" }",
            "hub", "both `hub` and `hubs` are set"
        ),
        ("hubs: []", "hubs", "0 hubs"),
    ])
    func badHubListNamesFieldAndProblem(hubs: String, field: String, problem: String) throws {
        let error = try #require(NodeConfigTests.error(Self.edge(hubs: hubs)))
        #expect(error.field == field, "\(error)")
        #expect(error.problem.contains(problem), "\(error)")
        #expect(error.file == "node.yaml")
        #expect(error.line != nil)
    }

    @Test func aLinkHubEndpointIsRefusedWithHubs() throws {
        let text = Self.edge(
            hubs: Self.twoHubs,
            links: """
                  - { name: fiber, local: "192.0.2.10:0", hub_endpoint: 203.0.113.9:51820 }
                  - { name: lte, local: "[2001:db8::10]:0" }
                """
        )
        let error = try #require(NodeConfigTests.error(text))
        #expect(error.field == "links[0].hub_endpoint", "\(error)")
        #expect(error.problem.contains("ambiguous"), "\(error)")
    }

    @Test func holdDownAboveItsMaximumIsRefused() throws {
        let text = Self.edge(hubs: Self.twoHubs, extra: "hub_selection: { hold_down: 30s, max_hold_down: 10s }")
        let error = try #require(NodeConfigTests.error(text))
        #expect(error.field == "hub_selection.max_hold_down", "\(error)")
    }
}
