import SDWANCore

/// `hub:` (one hub, the original form) and `hubs:` (an ordered list: primary first), docs/operations.md "hubs".
extension NodeConfig {
    static let hubFieldsSingle = ["name", "public_key", "psk_file", "psk", "endpoint"]
    static let hubFieldsListed = ["name", "public_key", "psk_file", "psk", "endpoint", "endpoints"]

    /// The hubs of an edge config before its links are known: `hub:` gives one, `hubs:` several.
    /// Duplicate names and public keys are refused (each hub is one tunnel).
    /// `linkNames` are the names the `links:` list gives (the keys `endpoints:` may use).
    static func decodeHubs(
        _ m: ConfigMapping,
        linkNames: [String]
    ) throws(ConfigError) -> (hubs: [HubPeerConfig], listed: Bool) {
        if let single = m["hub"], m["hubs"] != nil {
            throw single.error("both `hub` and `hubs` are set", expected: "one of them (`hub:` is a one-hub `hubs:`)")
        }
        if let single = m["hub"] {
            return ([try decodeHub(single, listed: false, linkNames: linkNames)], false)
        }
        let listValue = try m.required("hubs", expected: "the hubs in order of preference: name, public_key, endpoint")
        let values = try listValue.sequence()
        guard !values.isEmpty, values.count <= 16 else {
            throw listValue.error("\(values.count) hubs", expected: "1 to 16 hubs")
        }
        var hubs: [HubPeerConfig] = []
        for value in values {
            let hub = try decodeHub(value, listed: true, linkNames: linkNames)
            let fields = try value.mapping(allowing: hubFieldsListed)
            if hubs.contains(where: { $0.name == hub.name }) {
                throw fields["name"]!.error("hub name `\(hub.name)` is used twice", expected: "hub names unique")
            }
            if let other = hubs.first(where: { $0.publicKey == hub.publicKey }) {
                throw fields["public_key"]!.error(
                    "hub `\(other.name)` has the same public key",
                    expected: "one key per hub"
                )
            }
            hubs.append(hub)
        }
        return (hubs, true)
    }

    private static func decodeHub(
        _ value: ConfigValue,
        listed: Bool,
        linkNames: [String]
    ) throws(ConfigError) -> HubPeerConfig {
        let hm = try value.mapping(allowing: listed ? hubFieldsListed : hubFieldsSingle)
        var hub = HubPeerConfig(
            name: try hm.required("name", expected: "the hub's name").name(),
            publicKey: try NodeConfigParsing.publicKey(
                hm.required("public_key", expected: "the hub's public key (`sdwan pubkey`)")
            ),
            presharedKey: try NodeConfigParsing.secret(hm, "psk", required: false),
            endpoint: try hm["endpoint"].map(NodeConfigParsing.endpoint)
        )
        if let endpoints = hm["endpoints"] {
            let em = try endpoints.mapping(allowing: linkNames)
            for key in em.keys {
                hub.linkEndpoints[key] = try NodeConfigParsing.endpoint(em[key]!)
            }
        }
        return hub
    }

    /// With `hubs:`, the endpoint of the first hub for the link called `name` (links then take
    /// their `hub_endpoint` from here).
    static func listedEndpoint(_ hubs: [HubPeerConfig], link name: String) -> UDPEndpoint? {
        hubs[0].linkEndpoints[name] ?? hubs[0].endpoint
    }

    /// Resolves every hub's endpoint for every link (`endpoints:` by link name, else `endpoint:`),
    /// refusing a missing one, one of the wrong family, and two
    /// hubs at one address on one link (the edge tells hubs apart by the datagram's source).
    static func resolveHubEndpoints(
        _ hubs: inout [HubPeerConfig],
        links: [NodeLinkConfig],
        root: ConfigMapping
    ) throws(ConfigError) {
        let hubValues = try root["hubs"]!.sequence()
        for h in hubs.indices {
            let value = hubValues[h]
            let hm = try value.mapping(allowing: hubFieldsListed)
            var resolved: [String: UDPEndpoint] = [:]
            for link in links {
                guard let endpoint = hubs[h].linkEndpoints[link.name] ?? hubs[h].endpoint else {
                    _ = try hm.required(
                        "endpoint",
                        expected:
                            "the hub's address for every link (`endpoint:`) or per link (`endpoints: {\(link.name): …}`)"
                    )
                    throw value.error("no endpoint for link `\(link.name)`")
                }
                if endpoint.address.isV4 != link.local.address.isV4 {
                    throw value.error(
                        "hub `\(hubs[h].name)`'s endpoint \(endpoint) for link `\(link.name)` is not of the link's family",
                        expected: "an endpoint of the family of the link's local address (`endpoints:` per link)"
                    )
                }
                for other in hubs[..<h] where other.linkEndpoints[link.name] == endpoint {
                    throw value.error(
                        "hubs `\(other.name)` and `\(hubs[h].name)` share \(endpoint) on link `\(link.name)`",
                        expected: "a distinct endpoint per hub on each link"
                    )
                }
                resolved[link.name] = endpoint
            }
            hubs[h].linkEndpoints = resolved
        }
    }

    /// `hub_selection: { hold_down: 10s, max_hold_down: 160s }`.
    static func decodeHubSelection(_ value: ConfigValue?) throws(ConfigError) -> HubSelector.Configuration {
        guard let value else { return HubSelector.Configuration() }
        let m = try value.mapping(allowing: ["hold_down", "max_hold_down"])
        let defaults = HubSelector.Configuration()
        let holdDown = try m["hold_down"]?.duration() ?? defaults.holdDown
        let maxValue = m["max_hold_down"]
        let maxHoldDown = try maxValue?.duration() ?? max(defaults.maxHoldDown, holdDown)
        guard holdDown >= .zero, holdDown <= .seconds(3_600) else {
            throw m["hold_down"]!.error("\(holdDown)", expected: "a hold-down from 0s to 1h")
        }
        guard maxHoldDown >= holdDown, maxHoldDown <= .seconds(86_400) else {
            throw maxValue!.error("\(maxHoldDown)", expected: "at least `hold_down` and at most 24h")
        }
        return HubSelector.Configuration(holdDown: holdDown, maxHoldDown: maxHoldDown)
    }
}
