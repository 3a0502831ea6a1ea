import NIOCore

/// A packet waiting in a link's shaper: unsealed, so its counter and timestamp are assigned when it
/// leaves. Layout: 16 reserved header bytes ‖ 4 timestamp bytes ‖ frames.
struct QueuedPacket {
    var payload: ByteBuffer
    var classIndex: Int
    var dscp: UInt8
}

/// One WAN link inside an engine: configuration, path monitor, shaper and counters.
struct EngineLink {
    var configuration: EngineLinkConfiguration
    /// Where datagrams for this link go; the hub learns it from authenticated packets.
    var destination: UDPEndpoint?
    /// The local interface is up (the I/O ring reports it; a vanished interface is down at once).
    var locallyUp = true
    var monitor: PathMonitor
    var shaper: LinkShaper<QueuedPacket>
    var status: LinkStatus = .probing
    /// The receiver index of the last packet received: a new one means the peer's new keys came
    /// into use and its per-link counters restarted.
    var lastReceiverIndex: UInt32?
    /// One-way delay estimate (SRTT/2), refreshed at each re-selection, for striping and reorder.
    var oneWay: TimeSpan = .milliseconds(50)
    var packetsSent: UInt64 = 0
    var bytesSent: UInt64 = 0
    var packetsReceived: UInt64 = 0
    var bytesReceived: UInt64 = 0

    init(configuration: EngineLinkConfiguration, now: Instant) {
        self.configuration = configuration
        destination = configuration.destination
        monitor = PathMonitor(configuration: configuration.monitor, now: now)
        shaper = LinkShaper(configuration: Self.shaperConfiguration(rate: configuration.shapedUpBitsPerSecond))
    }

    /// A small bucket: 2 ms at the shaped rate, at least two full-size packets. The point of
    /// shaping is that the queue stays here; a deep bucket would push a burst into the modem's
    /// FIFO, where voice would wait behind it (16 kB at 2 Mbit/s is 64 ms).
    static func shaperConfiguration(rate: Int64) -> ShaperConfiguration {
        ShaperConfiguration(rateBitsPerSecond: rate, burstBytes: max(3_000, Int(rate / 8 / 500)))
    }

    /// The largest datagram payload (UDP payload) this link carries.
    var datagramBudget: Int { configuration.mtu - configuration.outerHeaderLength }

    /// The path selector's view of the link: our forward direction's quality, as the peer reports.
    /// It changes nothing; `mutating` so that the call reads the link where it is stored (a
    /// non-mutating call on a link in the engine's table copied all 2 kB of it first).
    mutating func candidate(index: Int) -> LinkCandidate {
        let quality = monitor.selectionQuality
        let rtt = quality.smoothedRTT ?? .seconds(1)
        let forward = quality.forward
        let reverse = quality.reverse
        let measurement = LinkMeasurement(
            rtt: rtt,
            jitter: max(forward.jitter, reverse.jitter),
            lossRatio: max(forward.lossRatio ?? 0, reverse.lossRatio ?? 0),
            rFactor: min(forward.rFactor ?? 93.2, reverse.rFactor ?? 93.2)
        )
        let usable: LinkCandidate.Status
        switch status {
        case .up: usable = locallyUp ? .up : .down
        case .degraded: usable = locallyUp ? .degraded : .down
        case .probing, .down: usable = .down
        }
        return LinkCandidate(
            index: index,
            name: configuration.name,
            tier: configuration.tier,
            cost: configuration.cost,
            metered: configuration.metered,
            status: destination == nil ? .down : usable,
            measurement: measurement
        )
    }

    /// When this link's timers need `handleTimeout`: the monitor's and the shaper's deadlines.
    /// Probes and reports can only leave with a destination, so a link without one has none (a
    /// due frame that cannot leave must not re-arm the timer at once).
    mutating func nextDeadline() -> Instant? {
        guard destination != nil else { return nil }
        let monitorDue = monitor.nextDeadline()
        guard let shaperDue = inPlace(&shaper, { $0.nextDeadline() }) else { return monitorDue }
        return monitorDue.map { min($0, shaperDue) } ?? shaperDue
    }
}
