import SDWANCore

/// Everything that describes one direction of a modelled link. Defaults describe a perfect link:
/// no delay, no loss, no rate limit, no MTU, no duplication, no reordering, no schedule.
public struct LinkDirectionParameters: Hashable, Sendable {
    /// Fixed one-way propagation delay.
    public var baseDelay: TimeSpan
    /// Random delay added to `baseDelay` per packet.
    public var jitter: JitterDistribution
    /// Whether jitter may reorder packets.
    public var ordering: DelayOrdering
    /// Random loss.
    public var loss: LossModel
    /// Bottleneck rate and queue; `nil` for an unlimited link.
    public var rate: RateLimit?
    /// Largest packet carried, in bytes (the packet as offered, i.e. the outer UDP payload plus
    /// whatever the caller counts); `nil` for no limit.
    public var mtu: Int?
    /// Probability that a delivered packet is delivered a second time.
    public var duplication: Double
    /// Holding back some packets so later ones overtake them.
    public var reordering: Reordering?
    /// Impairment windows fixed in time (brownouts, outages, degrades).
    public var schedules: [ScheduledImpairment]

    public init(
        baseDelay: TimeSpan = .zero,
        jitter: JitterDistribution = .none,
        ordering: DelayOrdering = .fifo,
        loss: LossModel = .none,
        rate: RateLimit? = nil,
        mtu: Int? = nil,
        duplication: Double = 0,
        reordering: Reordering? = nil,
        schedules: [ScheduledImpairment] = []
    ) {
        self.baseDelay = baseDelay
        self.jitter = jitter
        self.ordering = ordering
        self.loss = loss
        self.rate = rate
        self.mtu = mtu
        self.duplication = duplication
        self.reordering = reordering
        self.schedules = schedules
    }
}

/// One direction of a modelled link: the composition of every model in this module behind a
/// single entry point, `offer(size:at:using:)`.
///
/// Pure and passive: no event loop and no clock. The caller offers each packet at its send instant
/// (instants must not go backwards) with a generator it owns, and gets back when the packet
/// arrives, or why it was dropped. The simulator schedules the delivery in virtual time; the WAN
/// emulator holds the datagram until that instant in real time.
///
/// Pipeline per packet (docs/simulator.md, "Link direction"):
/// 1. cut by an override → `.cut`; 2. larger than the MTU → `.mtu`; 3. inside an outage window →
/// `.outage`; 4. rate limiter: queue full → `.congestion`, else departure after queueing and
/// serialization; 5. loss model → `.loss` (after the bottleneck: a lost packet still used the
/// link's capacity, and a per-packet Gilbert chain steps once per packet that reached the wire);
/// 6. a degrade window's extra loss → `.outage`; 7. delivery = departure + max(0, base + jitter) +
/// degrade delay (+ hold-back if reordered), then the FIFO rule; 8. duplication adds a copy with
/// its own jitter draw.
///
/// A model draws from the generator only for the features it has, so adding nothing changes
/// nothing; give each link direction its own `SeededRandomSource.derived(_:)` stream.
public struct LinkDirectionModel: Sendable {
    /// The parameters in force, overrides included.
    public private(set) var parameters: LinkDirectionParameters
    /// Ground truth so far.
    public private(set) var counters = LinkCounters()
    /// Whether an override has cut the link.
    public private(set) var isCut = false

    private var lossProcess: LossProcess
    private var queue: RateQueue?
    private var schedule: ScheduleState
    private var lastDelivery = Instant(nanoseconds: .min)
    /// The spare deviate of the normal jitter's last pair.
    private var normals = NormalDeviates()

    /// A model in its initial state. Schedule windows count from `origin` (the simulator's
    /// `Instant.zero`, or the instant the WAN emulator started). `scheduleSalt` fixes the durations
    /// of periodic windows (see `ScheduleState`): pass the same value to both directions of a link
    /// so a brownout hits both.
    public init(_ parameters: LinkDirectionParameters, origin: Instant = .zero, scheduleSalt: UInt64? = nil) {
        precondition(parameters.duplication >= 0 && parameters.duplication <= 1, "duplication in [0, 1]")
        self.parameters = parameters
        self.lossProcess = LossProcess(model: parameters.loss)
        self.queue = parameters.rate.map(RateQueue.init(limit:))
        self.schedule = ScheduleState(schedules: parameters.schedules, origin: origin, salt: scheduleSalt)
    }

    /// Offers a packet of `size` bytes sent at `now`.
    public mutating func offer(size: Int, at now: Instant, using random: inout some RandomSource) -> LinkVerdict {
        counters.offered += 1
        if isCut { return drop(.cut) }
        if let mtu = parameters.mtu, size > mtu { return drop(.mtu) }
        let impairment = schedule.active(at: now, using: &random)
        if impairment.outage { return drop(.outage) }

        var departure = now
        var serialization = TimeSpan.zero
        var queueingDelay = TimeSpan.zero
        if queue != nil {
            switch queue!.offer(size: size, at: now) {
            case .congestionDrop:
                return drop(.congestion)
            case .departs(let at, let waited):
                departure = at
                queueingDelay = waited
                serialization = at - now - waited
            }
        }
        if lossProcess.drops(at: now, using: &random) { return drop(.loss) }
        if impairment.extraLoss > 0 && random.nextUnitDouble() < impairment.extraLoss { return drop(.outage) }

        let earliest = departure + parameters.baseDelay
        var first = earliest + propagationJitter(using: &random) + impairment.extraDelay
        var heldBack = false
        if let reordering = parameters.reordering, reordering.probability > 0,
            random.nextUnitDouble() < reordering.probability
        {
            heldBack = true
            first += reordering.extraDelay
            counters.reordered += 1
        }
        if parameters.ordering == .fifo && !heldBack {
            first = max(first, lastDelivery)
            lastDelivery = first
        }
        counters.passed += 1
        counters.passedBytes += UInt64(max(size, 0))
        if queueingDelay > .zero { counters.queued += 1 }
        if first > now + serialization + parameters.baseDelay { counters.delayed += 1 }

        guard parameters.duplication > 0, random.nextUnitDouble() < parameters.duplication else {
            return .deliver(first)
        }
        var second = earliest + propagationJitter(using: &random) + impairment.extraDelay
        if parameters.ordering == .fifo {
            second = max(second, lastDelivery)
            lastDelivery = second
        }
        counters.duplicated += 1
        return .deliverTwice(first: first, second: second)
    }

    /// max(0, base + J) − base: the jitter actually applied, never making the delay negative.
    private mutating func propagationJitter(using random: inout some RandomSource) -> TimeSpan {
        let j = parameters.jitter.sampleNanoseconds(using: &random, normals: &normals)
        return TimeSpan(nanoseconds: max(j, -parameters.baseDelay.nanoseconds))
    }

    private mutating func drop(_ cause: DropCause) -> LinkVerdict {
        counters.dropped[cause] += 1
        return .dropped(cause)
    }

    // MARK: External overrides (the simulator's timeline, the WAN emulator's control socket)

    /// Cuts the link: every packet offered from now on is dropped with cause `.cut`. Packets
    /// already given a delivery instant still arrive (they are in flight).
    public mutating func cut() { isCut = true }

    /// Ends a cut.
    public mutating func restore() { isCut = false }

    /// Replaces the loss model (the chain restarts in Good).
    public mutating func setLoss(_ loss: LossModel) {
        parameters.loss = loss
        lossProcess = LossProcess(model: loss)
    }

    /// Replaces the base delay and, if given, the jitter distribution.
    public mutating func setDelay(base: TimeSpan, jitter: JitterDistribution? = nil) {
        precondition(base >= .zero, "delay ≥ 0")
        parameters.baseDelay = base
        if let jitter { parameters.jitter = jitter }
    }

    /// Replaces the rate limit (`nil`: unlimited). Packets already queued keep their departures.
    public mutating func setRate(_ rate: RateLimit?, at now: Instant) {
        parameters.rate = rate
        guard let rate else {
            queue = nil
            return
        }
        if queue != nil {
            queue!.setLimit(rate, at: now)
        } else {
            queue = RateQueue(limit: rate)
        }
    }

    /// Replaces the duplication probability.
    public mutating func setDuplication(_ probability: Double) {
        precondition(probability >= 0 && probability <= 1, "duplication in [0, 1]")
        parameters.duplication = probability
    }

    /// Replaces the MTU (`nil`: no limit).
    public mutating func setMTU(_ mtu: Int?) { parameters.mtu = mtu }
}
