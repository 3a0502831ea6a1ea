import SDWANConfig
import SDWANCore

/// Where the emulator listens, where it sends and how it is steered.
///
/// Link i of the branch (topology order) listens on `listen.port + i` (the edge's link i sends
/// there); with port 0 each link gets a port from the kernel (tests). Each link also has a
/// hub-facing socket on `hubFacing` with a kernel-chosen port, so the hub sees each link as a
/// distinct source and a rebind shows as a new port.
public struct WANEmulatorConfiguration: Sendable {
    /// The hub's listen address: up-direction packets go there; down-direction packets are
    /// accepted only from there.
    public var hub: UDPEndpoint
    /// The first edge-facing address.
    public var listen: UDPEndpoint
    /// Local address for the hub-facing sockets (the port is always the kernel's choice);
    /// `nil`: the listen address.
    public var hubFacing: IPAddress?
    /// The control socket (UDP, loopback addresses only); `nil`: no control socket.
    public var control: UDPEndpoint?
    /// The branch to emulate; `nil`: the topology's only branch.
    public var branch: String?
    /// Seeds every link direction's generator (`SeededRandomSource(seed:).derived(2·i)` up,
    /// `derived(2·i + 1)` down) and the schedule salts, so a run is reproducible packet for
    /// packet given the same arrival order.
    public var seed: UInt64
    /// Datagrams per read syscall.
    public var batchSize: Int
    /// Largest datagram relayed; larger ones are truncated by the kernel.
    public var maxDatagramSize: Int

    public init(
        hub: UDPEndpoint,
        listen: UDPEndpoint,
        hubFacing: IPAddress? = nil,
        control: UDPEndpoint? = nil,
        branch: String? = nil,
        seed: UInt64 = 1,
        batchSize: Int = 32,
        maxDatagramSize: Int = 2_048
    ) {
        self.hub = hub
        self.listen = listen
        self.hubFacing = hubFacing
        self.control = control
        self.branch = branch
        self.seed = seed
        self.batchSize = batchSize
        self.maxDatagramSize = maxDatagramSize
    }

    /// The default control address, `127.0.0.1:39999`.
    public static let defaultControl = UDPEndpoint(address: .v4(0x7F00_0001), port: 39_999)

    /// Whether `address` is a loopback address (127.0.0.0/8 or ::1): the only addresses the
    /// control socket may bind, since it is not authenticated.
    public static func isLoopback(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let raw): raw >> 24 == 127
        case .v6(let high, let low): high == 0 && low == 1
        }
    }
}

/// The optional `wanem:` block of a scenario (or timeline) file; command-line flags override it.
///
/// ```yaml
/// wanem:
///   hub: 127.0.0.1:51820        # required here or as --hub
///   listen: 127.0.0.1:40000     # link i on port 40000 + i
///   hub-facing: 127.0.0.1       # local address towards the hub
///   control: 127.0.0.1:39999    # loopback only
///   branch: store-12
///   seed: 7
/// ```
public struct WANEmulatorFileSettings: Hashable, Sendable {
    public var hub: UDPEndpoint?
    public var listen: UDPEndpoint?
    public var hubFacing: IPAddress?
    public var control: UDPEndpoint?
    public var branch: String?
    public var seed: UInt64?

    public init() {}

    /// The `wanem:` block of a document whose root is a mapping; empty settings when there is none.
    public static func decode(document root: ConfigValue) throws(ConfigError) -> WANEmulatorFileSettings {
        guard root.isMapping, case .mapping(let mapping) = root.node else { return WANEmulatorFileSettings() }
        let m = try root.mapping(allowing: Array(mapping.keys.compactMap(\.string)))
        guard let block = m["wanem"] else { return WANEmulatorFileSettings() }
        let w = try block.mapping(allowing: ["hub", "listen", "hub-facing", "control", "branch", "seed"])
        var settings = WANEmulatorFileSettings()
        settings.hub = try w["hub"].map(endpoint)
        settings.listen = try w["listen"].map(endpoint)
        if let v = w["hub-facing"] {
            guard let address = IPAddress(try v.string()) else {
                throw v.error("not an IP address", expected: "e.g. 127.0.0.1 or ::1")
            }
            settings.hubFacing = address
        }
        if let v = w["control"] {
            let control = try endpoint(v)
            guard WANEmulatorConfiguration.isLoopback(control.address) else {
                throw v.error("the control socket must be on loopback", expected: "127.0.0.1:PORT or [::1]:PORT")
            }
            settings.control = control
        }
        settings.branch = try w["branch"]?.name()
        if let v = w["seed"] { settings.seed = UInt64(try v.int(in: 0...Int.max)) }
        return settings
    }

    static func endpoint(_ value: ConfigValue) throws(ConfigError) -> UDPEndpoint {
        let text = try value.string()
        guard let endpoint = UDPEndpoint(text) else {
            throw value.error("`\(text)` is not an address and port", expected: "e.g. 127.0.0.1:51820 or [::1]:51820")
        }
        return endpoint
    }
}
