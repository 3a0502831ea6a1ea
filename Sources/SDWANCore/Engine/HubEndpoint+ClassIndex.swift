import NIOCore

extension HubEndpoint {
    /// An inner packet from the data centre in a class the caller names (a UDP port forward's
    /// reply travels in the class its request came in): routed like `handleInnerPacket(_:now:)`,
    /// sent as `TunnelEngine.handleInnerPacket(_:classIndex:now:)`.
    public func handleInnerPacket(_ packet: ByteBuffer, classIndex: Int, now: Instant) {
        guard let header = InnerPacketHeader.parse(packet) else {
            count(.unparseableInner)
            return
        }
        guard let b = route(header.destination) else {
            count(.noRoute)
            return
        }
        branches[b].engine.handleInnerPacket(packet, classIndex: classIndex, now: now)
        drain(b, now: now)
    }
}
