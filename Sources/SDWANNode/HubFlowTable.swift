import NIOCore
import SDWANCore
import SDWANIO

/// The hub's side of UDP port forwards: one socket per client flow (the branch's inner address
/// and flow port, and the target), so the target sees one source port per flow and its replies
/// find the flow again. Bounded (a full table refuses, counted); idle flows close.
struct HubFlowTable {
    struct Key: Hashable {
        var client: UDPEndpoint
        var target: UDPEndpoint
    }
    struct Flow {
        var socket: UDPLinkSocket?
        /// Payloads that arrived while the socket was opening (bounded).
        var pending: [ByteBuffer] = []
        var classIndex: Int
        var lastSeen: Instant
    }

    static let pendingLimit = 16

    var flows: [Key: Flow] = [:]
    var maxFlows: Int

    init(maxFlows: Int) { self.maxFlows = maxFlows }

    var count: Int { flows.count }

    /// Keys of flows idle longer than `timeout`, sorted so closing order is stable.
    func idle(now: Instant, timeout: TimeSpan) -> [Key] {
        flows.filter { now - $0.value.lastSeen > timeout }.map(\.key).sorted {
            ($0.client.port, $0.target.port) < ($1.client.port, $1.target.port)
        }
    }
}
