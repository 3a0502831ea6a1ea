/// Why the I/O ring (not the engine) dropped or refused something; exported as
/// `sdwan_node_drops_total{reason=…}` (docs/operations.md, "Metrics").
public enum NodeDropReason: Int, CaseIterable, Sendable {
    /// A socket's write buffer was full (the kernel or NIO could not take more): dropped early.
    case socketBackpressure
    /// A transmit named a link with no open socket (interface gone, socket being rebuilt).
    case linkSocketMissing
    /// A forward's flow table was full: a new client flow was refused.
    case forwardFlowsFull
    /// A delivery for a forward flow this node no longer knows (expired or never opened).
    case forwardUnknownFlow
    /// A delivery that is not a forward's UDP datagram and no TUN device to take it.
    case noLocalSink
    /// The hub: a forward datagram to a target not listed in `udp_targets.allowed`.
    case forwardTargetNotAllowed
    /// The hub: datagrams waiting for a flow's socket to open, beyond the small queue.
    case forwardPendingFull
    /// A reply on a flow socket from an address other than the flow's target.
    case forwardStrangerReply
    /// A datagram too large for the tunnel's inner MTU after wrapping.
    case forwardOversize
    /// The TUN device refused a packet written to it.
    case tunWriteFailed
    /// The hub: a packet from the data centre larger than its branch's inner MTU (answered with a
    /// rate-limited ICMP "too big" when the limit allows).
    case tunOversize
    /// The edge: a datagram on a link socket from an address that is none of the hubs' endpoints
    /// for that link.
    case unknownHubSource

    /// The label value in /metrics.
    public var label: String {
        switch self {
        case .socketBackpressure: "socket_backpressure"
        case .linkSocketMissing: "link_socket_missing"
        case .forwardFlowsFull: "forward_flows_full"
        case .forwardUnknownFlow: "forward_unknown_flow"
        case .noLocalSink: "no_local_sink"
        case .forwardTargetNotAllowed: "forward_target_not_allowed"
        case .forwardPendingFull: "forward_pending_full"
        case .forwardStrangerReply: "forward_stranger_reply"
        case .forwardOversize: "forward_oversize"
        case .tunWriteFailed: "tun_write_failed"
        case .tunOversize: "tun_oversize"
        case .unknownHubSource: "unknown_hub_source"
        }
    }
}

/// The ring's own counters.
public struct NodeCounters: Sendable {
    public private(set) var drops = [UInt64](repeating: 0, count: NodeDropReason.allCases.count)
    /// Datagrams read from link sockets and written to them.
    public var datagramsReceived: UInt64 = 0
    public var datagramsSent: UInt64 = 0
    /// Read batches (one clock read each).
    public var batches: UInt64 = 0
    /// Forward datagrams in (from clients or targets) and out.
    public var forwardIn: UInt64 = 0
    public var forwardOut: UInt64 = 0
    /// Inner packets read from the TUN device and written to it.
    public var tunIn: UInt64 = 0
    public var tunOut: UInt64 = 0
    /// ICMP "too big" replies the node wrote into the TUN itself (the hub; the edge's engine counts its own).
    public var tooBigSent: UInt64 = 0

    public init() {}

    public mutating func count(_ reason: NodeDropReason) { drops[reason.rawValue] &+= 1 }
    public subscript(reason: NodeDropReason) -> UInt64 { drops[reason.rawValue] }
}
