import NIOCore
import SDWANCore

/// An in-memory edge ↔ hub pair in virtual time (quinn-proto's `tests/util.rs` `Pair`): datagrams
/// travel over links with fixed one-way delays, the clock jumps to the next arrival, timer or
/// traffic tick, and a filter can drop or duplicate handshake datagrams. The harness plays the
/// engine's part: it sends sequence-numbered DATA frames both ways on a random link per packet,
/// keeps the hub's receiver-index table, and tells the edge when every link has gone silent.
final class SessionPair {
    struct InFlight {
        var arrival: Instant
        var order: Int
        var toHub: Bool
        var link: UInt8
        var kind: SessionTransmit.Kind?
        var datagram: ByteBuffer
    }

    enum Fate {
        case deliver
        case drop
        case duplicate
    }

    static let wallOrigin = WallTime(secondsSinceEpoch: 1_790_000_000, nanoseconds: 0)

    var now = Instant.zero
    var random = SeededRandomSource(seed: 42)
    let linkDelays: [UInt8: TimeSpan]
    let edgeKey: PrivateKey
    let hubKey: PrivateKey
    var edge: EdgeSession
    var responder: HandshakeResponder
    var branch: BranchSession
    var hubIndex: [UInt32: BranchSession] = [:]
    var queue: [InFlight] = []
    var order = 0
    /// Decides the fate of each handshake datagram (kind, its ordinal among datagrams of that kind).
    var handshakeFilter: (SessionTransmit.Kind, Int) -> Fate = { _, _ in .deliver }
    var handshakeCounts: [SessionTransmit.Kind: Int] = [:]

    // Traffic.
    var trafficInterval: TimeSpan? = nil
    var nextTraffic = Instant.zero
    var edgeSent = 0
    var hubSent = 0
    var hubReceived: [Int: Int] = [:]
    var edgeReceived: [Int: Int] = [:]
    var sealFailures = 0
    // Engine stand-in: silence detection.
    var silenceThreshold: TimeSpan? = nil
    var lastEdgeReceive = Instant.zero
    var silentSignals = 0
    // Observations.
    var edgeEvents: [(Instant, SessionEvent)] = []
    var hubEvents: [(Instant, SessionEvent)] = []
    var responsesSent: [Instant] = []
    var initiationTimes: [Instant] = []
    var firstHubDelivery: [Instant] = []
    var firstEdgeDelivery: [Instant] = []
    var sealed: [(keyID: UInt64, link: UInt8, counter: UInt64)] = []
    let pskBytes: [UInt8]

    init(linkDelays: [UInt8: TimeSpan], seed: UInt64 = 42) {
        self.linkDelays = linkDelays
        random = SeededRandomSource(seed: seed)
        edgeKey = PrivateKey.generate(using: &random)
        hubKey = PrivateKey.generate(using: &random)
        var bytes = [UInt8](repeating: 0, count: 32)
        var source = random
        bytes.withUnsafeMutableBytes { source.fill($0) }
        random = source
        pskBytes = bytes
        let psk = PresharedKey(secret: SecretBytes(copying: bytes))
        edge = EdgeSession(localStatic: edgeKey, hubPublicKey: hubKey.publicKey, presharedKey: psk)
        responder = HandshakeResponder(localStatic: hubKey)
        responder.addPeer(edgeKey.publicKey, presharedKey: psk)
        branch = BranchSession(peer: edgeKey.publicKey)
        edge.setLinks(Array(linkDelays.keys))
    }

    var wall: WallTime {
        let ns = now.nanoseconds
        return WallTime(
            secondsSinceEpoch: Self.wallOrigin.secondsSinceEpoch + ns / 1_000_000_000,
            nanoseconds: UInt32(ns % 1_000_000_000)
        )
    }

    /// The hub loses all its state (process restart): new responder, no sessions.
    func restartHub() {
        responder = HandshakeResponder(localStatic: hubKey)
        responder.addPeer(edgeKey.publicKey, presharedKey: PresharedKey(secret: SecretBytes(copying: pskBytes)))
        branch = BranchSession(peer: edgeKey.publicKey)
        hubIndex = [:]
    }

    func send(_ transmit: SessionTransmit, toHub: Bool) {
        var fate = Fate.deliver
        if transmit.kind != .keepalive {
            let n = handshakeCounts[transmit.kind, default: 0]
            handshakeCounts[transmit.kind] = n + 1
            fate = handshakeFilter(transmit.kind, n)
            if transmit.kind == .response { responsesSent.append(now) }
            if transmit.kind == .initiation { initiationTimes.append(now) }
        }
        let copies = fate == .drop ? 0 : (fate == .duplicate ? 2 : 1)
        for _ in 0..<copies {
            order += 1
            queue.append(
                InFlight(
                    arrival: now + linkDelays[transmit.linkID]!,
                    order: order,
                    toHub: toHub,
                    link: transmit.linkID,
                    kind: transmit.kind,
                    datagram: transmit.datagram
                )
            )
        }
    }

    func drain() {
        while let t = edge.pollTransmit() { send(t, toHub: true) }
        while let e = edge.pollEvent() { edgeEvents.append((now, e)) }
        while let e = branch.pollEvent() {
            hubEvents.append((now, e))
            if case .sessionRetired(let index) = e { hubIndex[index] = nil }
        }
    }

    func dataPacket(seq: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeRepeatingByte(0, count: WireFormat.transportHeaderLength)
        WireTimestamp(now).write(to: &buffer)
        buffer.writeFrame(.data) { $0.writeInteger(UInt64(seq)) }
        return buffer
    }

    static func seq(of opened: ByteBuffer) -> Int? {
        var payload = opened
        guard WireTimestamp.read(from: &payload) != nil else { return nil }
        var frames = FrameReader(payload)
        guard case .success(let frame)? = frames.next(), frame.type == .data else { return nil }
        return frame.body.getInteger(at: frame.body.readerIndex, as: UInt64.self).map { Int($0) }
    }

    func trafficTick() {
        let links = linkDelays.keys.sorted()
        if edge.isEstablished {
            var packet = dataPacket(seq: edgeSent)
            let link = links[Int.random(in: 0..<links.count, using: &random)]
            switch edge.seal(&packet, linkID: link, now: now) {
            case .success(let header):
                sealed.append((edge.currentKeyID!, link, header.counter))
                edgeSent += 1
                send(SessionTransmit(linkID: link, kind: .keepalive, datagram: packet), toHub: true)
            case .failure: sealFailures += 1
            }
        }
        if branch.isEstablished {
            var packet = dataPacket(seq: hubSent)
            let link = links[Int.random(in: 0..<links.count, using: &random)]
            switch branch.seal(&packet, linkID: link, now: now) {
            case .success(let header):
                sealed.append((branch.currentKeyID!, link, header.counter))
                hubSent += 1
                send(SessionTransmit(linkID: link, kind: .keepalive, datagram: packet), toHub: false)
            case .failure: sealFailures += 1
            }
        }
    }

    func deliver(_ item: InFlight) {
        var datagram = item.datagram
        if item.toHub {
            switch HandshakeWire.messageType(of: datagram) {
            case .handshakeInitiation:
                let result = responder.handleInitiation(datagram, linkID: item.link, now: now, using: &random) {
                    self.hubIndex[$0] != nil
                }
                if case .success(let accept) = result {
                    branch.install(accept.session)
                    hubIndex[accept.session.localIndex] = branch
                    send(accept.response, toHub: false)
                }
            case .transport:
                guard case .success(let header) = TransportHeader.peek(datagram), let b = hubIndex[header.receiverIndex]
                else { return }
                if case .success = b.open(&datagram, header: header, now: now), let seq = Self.seq(of: datagram) {
                    hubReceived[seq, default: 0] += 1
                    firstHubDelivery.append(now)
                }
            default: return
            }
        } else {
            if case .packet = edge.handleDatagram(&datagram, linkID: item.link, now: now) {
                lastEdgeReceive = now
                if let seq = Self.seq(of: datagram) {
                    edgeReceived[seq, default: 0] += 1
                    firstEdgeDelivery.append(now)
                }
            }
        }
    }

    /// Runs the pair until `end`, jumping from event to event.
    func run(until end: Instant, trafficUntil: Instant? = nil) {
        drain()
        while true {
            var next = end
            if let a = queue.min(by: { ($0.arrival, $0.order) < ($1.arrival, $1.order) }) {
                next = min(next, a.arrival)
            }
            if let d = edge.nextDeadline() { next = min(next, max(d, now)) }
            if let d = branch.nextDeadline() { next = min(next, max(d, now)) }
            let trafficOn = trafficInterval != nil && (trafficUntil.map { nextTraffic < $0 } ?? true)
            if trafficOn { next = min(next, nextTraffic) }
            if let threshold = silenceThreshold { next = min(next, max(lastEdgeReceive + threshold, now)) }
            if next >= end && queue.isEmpty { break }
            if next > end { break }
            now = next
            let due = queue.enumerated().filter { $0.element.arrival <= now }
                .sorted { ($0.element.arrival, $0.element.order) < ($1.element.arrival, $1.element.order) }
            let dueOrders = Set(due.map { $0.element.order })
            queue.removeAll { dueOrders.contains($0.order) }
            for item in due { deliver(item.element) }
            if let d = edge.nextDeadline(), d <= now { edge.handleTimeout(now: now, wallTime: wall, using: &random) }
            if let d = branch.nextDeadline(), d <= now { branch.handleTimeout(now: now) }
            if trafficOn, nextTraffic <= now {
                trafficTick()
                nextTraffic = now + trafficInterval!
            }
            if let threshold = silenceThreshold, now - lastEdgeReceive >= threshold {
                edge.handleAllLinksSilent(now: now, wallTime: wall, using: &random)
                silentSignals += 1
                lastEdgeReceive = now  // the engine re-arms its detector
            }
            drain()
            if now >= end { break }
        }
    }

    /// Connects and runs until the edge and the hub both have confirmed keys.
    func establish() {
        edge.connect(now: now, wallTime: wall, using: &random)
        run(until: now + .seconds(1))
    }
}
