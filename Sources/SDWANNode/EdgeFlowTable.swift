import SDWANCore

/// The edge's client flows of its UDP forwards: each client address and port of a forward gets a
/// flow port, the source port of its wrapped datagrams (ForwardPacket's address plan), so the
/// hub's replies find the client again. Bounded per forward; idle flows expire.
struct EdgeFlowTable {
    struct Flow {
        var forward: Int
        var client: UDPEndpoint
        var lastSeen: Instant
    }
    struct Key: Hashable {
        var forward: Int
        var client: UDPEndpoint
    }

    /// Flow ports are drawn from here (below 1024 is left alone for readability of captures).
    static let ports: ClosedRange<UInt16> = 1_024...65_535

    private var byPort: [UInt16: Flow] = [:]
    private var byClient: [Key: UInt16] = [:]
    private(set) var perForward: [Int]
    private var nextPort = ports.lowerBound

    init(forwards: Int) { perForward = Array(repeating: 0, count: forwards) }

    var count: Int { byPort.count }

    /// The flow port of `client` on `forward`, opening a flow when there is room under `limit`;
    /// `nil` when the forward's table is full (or every port is taken).
    mutating func port(forward: Int, client: UDPEndpoint, now: Instant, limit: Int) -> UInt16? {
        let key = Key(forward: forward, client: client)
        if let port = byClient[key] {
            byPort[port]!.lastSeen = now
            return port
        }
        guard perForward[forward] < limit, byPort.count < Self.ports.count else { return nil }
        while byPort[nextPort] != nil { advance() }
        let port = nextPort
        advance()
        byPort[port] = Flow(forward: forward, client: client, lastSeen: now)
        byClient[key] = port
        perForward[forward] += 1
        return port
    }

    private mutating func advance() {
        nextPort = nextPort == Self.ports.upperBound ? Self.ports.lowerBound : nextPort + 1
    }

    /// The flow behind a port (a reply from the hub), marking it alive.
    mutating func flow(port: UInt16, now: Instant) -> Flow? {
        guard byPort[port] != nil else { return nil }
        byPort[port]!.lastSeen = now
        return byPort[port]
    }

    /// Removes flows idle longer than their forward's timeout; returns how many.
    mutating func expire(now: Instant, idleTimeout: (Int) -> TimeSpan) -> Int {
        let idle = byPort.filter { now - $0.value.lastSeen > idleTimeout($0.value.forward) }
        for (port, flow) in idle {
            byPort[port] = nil
            byClient[Key(forward: flow.forward, client: flow.client)] = nil
            perForward[flow.forward] -= 1
        }
        return idle.count
    }
}
