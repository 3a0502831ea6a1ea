import NIOCore
import NIOPosix
import SDWANCore
import SDWANIO

/// The demo's traffic: sources on the branch side sending to the edge's UDP forwards, and sinks on
/// the hub's side (the forwards' targets) that record what arrives. Everything runs on one event
/// loop and all state is confined to it; `snapshot()` and `record()` hop onto it.
///
/// Every datagram starts with a 14-byte marker: kind (1), call (1), sequence (4), send instant in
/// ns since the start of traffic (8). Sources and sinks share one monotonic clock (one host), so
/// one-way delay is arrival − send exactly, without clock sync.
final class DemoTraffic: @unchecked Sendable {
    enum Kind: UInt8, CaseIterable {
        case voice = 1
        case voiceBare = 2
        case pos = 3
        case bulk = 4
    }

    /// One sequence-numbered stream: when each packet left and when it arrived (−1: not yet).
    struct Stream {
        var sentAt: [Int64] = []
        var arrivedAt: [Int64] = []
        /// Arrival instants in arrival order (for gaps).
        var arrivals: [Int64] = []
        var duplicates = 0

        mutating func sent(_ at: Int64) -> UInt32 {
            sentAt.append(at)
            arrivedAt.append(-1)
            return UInt32(sentAt.count - 1)
        }

        mutating func arrived(seq: UInt32, at: Int64) {
            let i = Int(seq)
            guard i < arrivedAt.count else { return }
            if arrivedAt[i] >= 0 {
                duplicates += 1
                return
            }
            arrivedAt[i] = at
            arrivals.append(at)
        }

        var delivered: Int { arrivals.count }
    }

    let loop: EventLoop
    let plan: DemoPlan
    private(set) var sinkPorts = DemoSinkPorts(voice: 0, voiceBare: 0, pos: 0, bulk: 0)
    private var sinks: [UDPLinkSocket] = []
    private var voiceClients: [UDPLinkSocket] = []
    private var bareClients: [UDPLinkSocket] = []
    private var posClient: UDPLinkSocket?
    private var bulkClient: UDPLinkSocket?
    private var task: RepeatedTask?
    private var start = Instant.zero
    private var targets: DemoPorts?

    /// Voice and bare voice: one stream per call. POS: request → response. Bulk: one stream.
    private(set) var voice: [Stream]
    private(set) var voiceBare: [Stream]
    private(set) var pos = Stream()
    private(set) var bulk = Stream()
    private(set) var bulkBitsPerSecond = DemoPlan.bulkMinBitsPerSecond * 4
    private(set) var bulkBackoffs = 0
    private var bulkAllowance = 0.0
    private var lastTick: Int64 = 0
    private var lastBulkControl: Int64 = 0
    private var lastBackoff: Int64 = -1_000_000_000
    private let allocator = ByteBufferAllocator()

    init(loop: EventLoop, plan: DemoPlan) {
        self.loop = loop
        self.plan = plan
        voice = Array(repeating: Stream(), count: DemoPlan.calls)
        voiceBare = Array(repeating: Stream(), count: DemoPlan.calls)
    }

    /// Nanoseconds since the start of traffic.
    func elapsed(_ now: Instant = Clocks.monotonic()) -> Int64 { (now - start).nanoseconds }

    /// Opens the four sinks on 127.0.0.1 (kernel-chosen ports) before the hub's config is written.
    func openSinks() throws {
        var ports: [Int] = []
        for kind in [Kind.voice, .voiceBare, .pos, .bulk] {
            let socket = try UDPLinkSocket.open(Self.loopbackSocket, on: loop) { [self] batch in
                sinkReceived(kind, batch)
            }.wait()
            sinks.append(socket)
            ports.append(Int(socket.localEndpoint.port))
        }
        sinkPorts = DemoSinkPorts(voice: ports[0], voiceBare: ports[1], pos: ports[2], bulk: ports[3])
    }

    /// Opens the sources and starts sending; `start` is the origin of the timeline.
    func startSources(edge ports: DemoPorts) throws -> Instant {
        for _ in 0..<DemoPlan.calls {
            voiceClients.append(try UDPLinkSocket.open(Self.loopbackSocket, on: loop) { _ in }.wait())
            bareClients.append(try UDPLinkSocket.open(Self.loopbackSocket, on: loop) { _ in }.wait())
        }
        posClient = try UDPLinkSocket.open(Self.loopbackSocket, on: loop) { [self] batch in
            let now = elapsed()
            for datagram in batch {
                if let marker = Marker(datagram.data), marker.kind == Kind.pos.rawValue {
                    pos.arrived(seq: marker.seq, at: now)
                }
            }
        }.wait()
        bulkClient = try UDPLinkSocket.open(Self.loopbackSocket, on: loop) { _ in }.wait()
        return try loop.submit { [self] in
            targets = ports
            start = Clocks.monotonic()
            task = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(5)) { [self] _ in tick() }
            return start
        }.wait()
    }

    /// Stops the sources (the sinks keep counting until `close`).
    func stopSources() {
        try? loop.submit { [self] in
            task?.cancel()
            task = nil
        }.wait()
    }

    func close() {
        stopSources()
        for socket in sinks + voiceClients + bareClients + [posClient, bulkClient].compactMap({ $0 }) {
            try? socket.close().wait()
        }
    }

    /// A copy of everything recorded so far, taken on the loop.
    func record() -> DemoRecord {
        (try? loop.submit { [self] in
            DemoRecord(
                voice: voice,
                voiceBare: voiceBare,
                pos: pos,
                bulk: bulk,
                bulkBitsPerSecond: bulkBitsPerSecond,
                bulkBackoffs: bulkBackoffs,
                nowNs: elapsed()
            )
        }.wait()) ?? DemoRecord(voice: [], voiceBare: [], pos: Stream(), bulk: Stream(), nowNs: 0)
    }

    private static let loopbackSocket = UDPSocketConfiguration(
        local: UDPEndpoint("127.0.0.1:0")!,
        dontFragment: false,
        socketBufferBytes: 1 << 20
    )

    // MARK: sources (on the loop)

    private func tick() {
        guard let targets else { return }
        let now = elapsed()
        let stopAt = Int64((plan.duration - DemoPlan.drain) * 1e9)
        guard now < stopAt else { return }
        // Voice: every call owes one packet per 20 ms since the start; a late tick catches up.
        let voiceDue = Int(Double(now) / (DemoPlan.voiceInterval * 1e9)) + 1
        for call in 0..<DemoPlan.calls {
            sendVoice(.voice, call: call, due: voiceDue, to: targets.voice)
            sendVoice(.voiceBare, call: call, due: voiceDue, to: targets.voiceBare)
        }
        // POS: one request per interval.
        let posDue = Int(Double(now) / (DemoPlan.posInterval * 1e9)) + 1
        while pos.sentAt.count < posDue, let client = posClient {
            let seq = pos.sent(now)
            client.send(
                CollectionOfOne(
                    datagram(.pos, call: 0, seq: seq, at: now, size: DemoPlan.posRequestSize, to: targets.pos)
                )
            )
        }
        sendBulk(now: now, to: targets.bulk)
        lastTick = now
    }

    private func sendVoice(_ kind: Kind, call: Int, due: Int, to port: Int) {
        let client = kind == .voice ? voiceClients[call] : bareClients[call]
        var batch: [OutgoingDatagram] = []
        let now = elapsed()
        while (kind == .voice ? voice[call].sentAt.count : voiceBare[call].sentAt.count) < due {
            let seq = kind == .voice ? voice[call].sent(now) : voiceBare[call].sent(now)
            batch.append(datagram(kind, call: call, seq: seq, at: now, size: DemoPlan.voiceSize, to: port))
        }
        client.send(batch)
    }

    /// Bulk: a token bucket at the current rate; every 200 ms an AIMD step from the loss of the
    /// packets sent 0.6…0.3 s ago (old enough to have arrived): halve (at most once per 500 ms)
    /// above 2 % loss, else add 100 kbit/s, within the plan's bounds.
    private func sendBulk(now: Int64, to port: Int) {
        guard let client = bulkClient else { return }
        let dt = Double(now - lastTick) / 1e9
        bulkAllowance = min(bulkAllowance + bulkBitsPerSecond / 8 * dt, Double(DemoPlan.bulkSize * 8))
        var batch: [OutgoingDatagram] = []
        while bulkAllowance >= Double(DemoPlan.bulkSize) {
            bulkAllowance -= Double(DemoPlan.bulkSize)
            let seq = bulk.sent(now)
            batch.append(datagram(.bulk, call: 0, seq: seq, at: now, size: DemoPlan.bulkSize, to: port))
        }
        client.send(batch)
        guard now - lastBulkControl >= 200_000_000 else { return }
        lastBulkControl = now
        var sent = 0
        var lost = 0
        for i in bulk.sentAt.indices.reversed() {
            let age = now - bulk.sentAt[i]
            if age < 300_000_000 { continue }
            if age >= 600_000_000 { break }
            sent += 1
            if bulk.arrivedAt[i] < 0 { lost += 1 }
        }
        if sent > 0 && Double(lost) > 0.02 * Double(sent) {
            if now - lastBackoff >= 500_000_000 {
                bulkBitsPerSecond = max(DemoPlan.bulkMinBitsPerSecond, bulkBitsPerSecond / 2)
                bulkBackoffs += 1
                lastBackoff = now
            }
        } else {
            bulkBitsPerSecond = min(DemoPlan.bulkMaxBitsPerSecond, bulkBitsPerSecond + 100_000)
        }
    }

    private func datagram(_ kind: Kind, call: Int, seq: UInt32, at: Int64, size: Int, to port: Int) -> OutgoingDatagram
    {
        var buffer = allocator.buffer(capacity: size)
        Marker(kind: kind.rawValue, call: UInt8(call), seq: seq, sentNs: at).write(to: &buffer)
        buffer.writeRepeatingByte(0x5A, count: size - Marker.length)
        return OutgoingDatagram(data: buffer, destination: UDPEndpoint(address: .v4(0x7F00_0001), port: UInt16(port)))
    }

    // MARK: sinks (on the loop)

    private func sinkReceived(_ kind: Kind, _ batch: [ReceivedDatagram]) {
        let now = elapsed()
        var replies: [OutgoingDatagram] = []
        for datagram in batch {
            guard let marker = Marker(datagram.data), marker.kind == kind.rawValue else { continue }
            switch kind {
            case .voice:
                if Int(marker.call) < voice.count { voice[Int(marker.call)].arrived(seq: marker.seq, at: now) }
            case .voiceBare:
                if Int(marker.call) < voiceBare.count { voiceBare[Int(marker.call)].arrived(seq: marker.seq, at: now) }
            case .bulk:
                bulk.arrived(seq: marker.seq, at: now)
            case .pos:
                // The response: the request's marker, padded to the response size, back to its source.
                var buffer = allocator.buffer(capacity: DemoPlan.posResponseSize)
                marker.write(to: &buffer)
                buffer.writeRepeatingByte(0xA5, count: DemoPlan.posResponseSize - Marker.length)
                replies.append(OutgoingDatagram(data: buffer, destination: datagram.source))
            }
        }
        if !replies.isEmpty, sinks.count > 2 { sinks[2].send(replies) }
    }
}

/// The 14-byte marker at the start of every demo datagram.
struct Marker {
    static let length = 14
    var kind: UInt8
    var call: UInt8
    var seq: UInt32
    var sentNs: Int64

    init(kind: UInt8, call: UInt8, seq: UInt32, sentNs: Int64) {
        self.kind = kind
        self.call = call
        self.seq = seq
        self.sentNs = sentNs
    }

    /// `nil` when the datagram is too short to carry one.
    init?(_ buffer: ByteBuffer) {
        let i = buffer.readerIndex
        guard buffer.readableBytes >= Self.length, let kind = buffer.getInteger(at: i, as: UInt8.self),
            let call = buffer.getInteger(at: i + 1, as: UInt8.self),
            let seq = buffer.getInteger(at: i + 2, as: UInt32.self),
            let sent = buffer.getInteger(at: i + 6, as: Int64.self)
        else { return nil }
        self.init(kind: kind, call: call, seq: seq, sentNs: sent)
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(kind)
        buffer.writeInteger(call)
        buffer.writeInteger(seq)
        buffer.writeInteger(sentNs)
    }
}

/// Everything the traffic recorded, copied off the loop.
struct DemoRecord {
    var voice: [DemoTraffic.Stream]
    var voiceBare: [DemoTraffic.Stream]
    var pos: DemoTraffic.Stream
    var bulk: DemoTraffic.Stream
    var bulkBitsPerSecond = 0.0
    var bulkBackoffs = 0
    var nowNs: Int64
}
