import NIOCore

/// Liveness, loss, delay, jitter and voice quality of one WAN link, in both directions.
///
/// Pure and passive, after quinn-proto's `Connection`: the tunnel engine owns one `PathMonitor` per
/// link, feeds it what happens (`handle…(…, now:)`), sends what it asks for (`pollFrame`), acts on
/// what it reports (`pollEvent`) and wakes it at `nextDeadline()`.
///
/// Drain order for the engine, per event batch:
/// 1. For each authenticated packet received on the link: `handlePacketReceived(counter:timestamp:now:)`
///    first (any authenticated packet is proof of life of the reverse direction), then, for each of
///    its frames, `handleProbe` (send the returned reply on the same link), `handleProbeReply` or
///    `handleReceiverReport`.
/// 2. When the timer armed at `nextDeadline()` fires: `handleTimeout(now:)`.
/// 3. `pollFrame(now:into:using:)` until it returns `nil`, appending the frames to a packet for this
///    link (the engine may add them to a data packet); then, for every packet sent on the link,
///    probe or not, `handlePacketSent(linkCounter:now:)`.
/// 4. `pollEvent()` until `nil`.
/// 5. Re-arm the timer at `nextDeadline()`.
public struct PathMonitor: Sendable {
    public let configuration: PathMonitorConfiguration
    private var scheduler: ProbeScheduler
    private var rtt: RTTEstimator
    private var reverse: ReceiveStatistics
    private var forward: ForwardStatistics
    private var machine: LinkStateMachine

    // Sending side.
    private var highestSent: UInt64?
    private var lastSentAt: Instant?
    private var nextProbeSequence: UInt32 = 0
    private var outstandingSequence: [UInt32]
    private var outstandingSentAt: [UInt64]
    private var outstandingOpen: [Bool]
    private var lastPeerProbe: UInt32?
    private var nextReportSequence: UInt32 = 0
    private var lastReportAt: Instant
    private var reportWithProbe = false
    private var monitorArrivals = 0

    // Liveness and evaluation.
    private var forwardAlive = false
    private var reverseAlive = false
    private var nextEvaluation: Instant
    private var events: [LinkEvent] = []
    private var eventHead = 0
    /// The reverse detection window max(M × I, base + N × SRTT), cached when an input changes.
    public private(set) var detectionWindow: TimeSpan = .zero
    private var drops = [Int](repeating: 0, count: MonitorDropReason.allCases.count)

    /// A monitor for a link that comes into use at `now`; its first probe is due at once.
    public init(configuration: PathMonitorConfiguration = PathMonitorConfiguration(), now: Instant) {
        precondition(
            configuration.missedIntervals >= 1 && configuration.outstandingProbes >= 1,
            "M and the probe table ≥ 1"
        )
        self.configuration = configuration
        scheduler = ProbeScheduler(configuration: configuration.probes, standby: configuration.standby, now: now)
        rtt = RTTEstimator(windowSize: configuration.rttWindow)
        reverse = ReceiveStatistics(configuration: configuration.receive)
        forward = ForwardStatistics(configuration: configuration.receive)
        machine = LinkStateMachine(configuration: configuration.stateMachine)
        outstandingSequence = [UInt32](repeating: 0, count: configuration.outstandingProbes)
        outstandingSentAt = [UInt64](repeating: 0, count: configuration.outstandingProbes)
        outstandingOpen = [Bool](repeating: false, count: configuration.outstandingProbes)
        lastReportAt = now
        nextEvaluation = now + configuration.evaluationInterval
        updateDetectionWindow()
    }

    // MARK: Read-only state

    /// The link's status.
    public var status: LinkStatus { machine.status }

    /// The forward window: the reverse one plus the feedback delay (one report interval and an RTT),
    /// since we learn of the forward direction only from what comes back.
    public var forwardDetectionWindow: TimeSpan {
        detectionWindow + configuration.reportInterval + (rtt.smoothed ?? .zero)
    }

    /// Whether the link is probed at the standby interval.
    public var isStandby: Bool { scheduler.standby }

    /// Probes suppressed because data measured the link.
    public var suppressedProbes: Int { scheduler.suppressed }

    /// Frames refused for `reason`.
    public func dropCount(_ reason: MonitorDropReason) -> Int { drops[Self.index(reason)] }

    /// Reverse-direction counters the engine may export: late and duplicate arrivals.
    public var lateArrivals: UInt64 { reverse.late }
    public var duplicateArrivals: UInt64 { reverse.duplicates }

    /// The reverse direction's count-based loss window.
    public var reverseCountWindow: CountLossWindow { reverse.countWindow }

    /// Everything measured, per direction (docs/path-selection.md, "Metrics").
    public var quality: LinkQuality { quality(percentiles: true) }

    /// `quality` without the RTT percentiles (each sorts the sample window): what re-selection
    /// reads for every link, ten times a second and after every status change.
    var selectionQuality: LinkQuality { quality(percentiles: false) }

    private func quality(percentiles: Bool) -> LinkQuality {
        var q = LinkQuality()
        q.smoothedRTT = rtt.smoothed
        q.rttVariation = rtt.variation
        q.minimumRTT = rtt.minimum
        if percentiles {
            q.rttP50 = rtt.percentile(0.5)
            q.rttP90 = rtt.percentile(0.9)
            q.rttP99 = rtt.percentile(0.99)
        }
        q.reverse.lossRatio = reverse.shortWindow.ratio
        q.reverse.lossSamples = reverse.shortWindow.samples
        q.reverse.longLossRatio = reverse.longWindow.ratio
        q.reverse.cumulativeReceived = reverse.received
        q.reverse.cumulativeLost = reverse.lost
        q.reverse.outages = reverse.outages
        q.reverse.outageLost = reverse.outageLost
        q.reverse.meanBurstLength = reverse.meanBurstLength
        q.reverse.jitter = reverse.jitter
        q.reverse.pdvP99 = reverse.pdvP99
        q.reverse.lastAlive = reverse.lastArrival
        q.forward.lossRatio = forward.shortWindow.ratio
        q.forward.lossSamples = forward.shortWindow.samples
        q.forward.longLossRatio = forward.longWindow.ratio
        q.forward.cumulativeReceived = forward.received
        q.forward.cumulativeLost = forward.lost
        q.forward.jitter = forward.jitter
        q.forward.pdvP99 = forward.pdvP99
        q.forward.lastAlive = forward.lastAlive
        for direction in LinkDirection.allCases {
            guard let r = rFactor(direction) else { continue }
            switch direction {
            case .forward:
                q.forward.rFactor = r
                q.forward.mos = EModel.mos(rFactor: r)
            case .reverse:
                q.reverse.rFactor = r
                q.reverse.mos = EModel.mos(rFactor: r)
            }
        }
        return q
    }

    // MARK: Inputs

    /// A packet was sent on this link with per-link counter `linkCounter` (any packet: data, probe,
    /// report). A counter lower than the last one means a new key (rekey) restarted the space.
    public mutating func handlePacketSent(linkCounter: UInt64, now: Instant) {
        if let last = highestSent, linkCounter < last { forward.resetCounterSpace() }
        highestSent = linkCounter
        lastSentAt = now
        scheduler.noteSent()
    }

    /// An authenticated packet arrived on this link: proof of life of the reverse direction, and a
    /// sample of its loss, jitter and delay variation.
    public mutating func handlePacketReceived(counter: UInt64, timestamp: WireTimestamp, now: Instant) {
        // A silence that ended with this packet is still a silence if its window expired first.
        let endsSilence = reverse.lastArrival.map { now - $0 >= detectionWindow } ?? false
        if reverseAlive && endsSilence { handleTimeout(now: now) }
        // What the silence swallowed is an outage, not loss (ReceiveStatistics.record): the peer's
        // reports carry our count, so its forward view of this direction is spared too.
        reverse.record(counter: counter, timestamp: timestamp, now: now, endsOutage: endsSilence)
        scheduler.noteReceived()
    }

    /// The peer's counter space on this link restarted (its new key came into use at a rekey): the
    /// sequence accounting starts again from the next packet; cumulative counts carry on.
    public mutating func handleReceiveCounterReset() {
        reverse.resetCounterSpace()
    }

    /// A PROBE frame body arrived: the reply (same size, RFC 8762) to send back on this link, with
    /// T2 = T3 = `now`, or the reason it was refused. The next `pollFrame` adds a receiver report
    /// to ride in the same packet.
    public mutating func handleProbe(_ body: ByteBuffer, now: Instant) -> Result<ProbeFrame, MonitorDropReason> {
        monitorArrivals += 1
        guard let probe = ProbeFrame.parse(body) else { return drop(.malformed) }
        guard probe.reflectorReceiveTime == 0, probe.reflectorSendTime == 0 else {
            return drop(.probeWithReflectorTimes)
        }
        if let last = lastPeerProbe, !isNewer(probe.sequence, than: last) { return drop(.replayedProbe) }
        lastPeerProbe = probe.sequence
        // The reply carries the latest report too (the next `pollFrame` writes it).
        reportWithProbe = true
        let t = UInt64(bitPattern: now.nanoseconds)
        return .success(
            ProbeFrame(
                sequence: probe.sequence,
                senderTime: probe.senderTime,
                reflectorReceiveTime: t,
                reflectorSendTime: t
            )
        )
    }

    /// A PROBE_REPLY frame body arrived: an RTT sample, (T4 − T1) − (T3 − T2), and proof that our
    /// probe got through. Refused unless it answers an outstanding probe exactly once.
    @discardableResult
    public mutating func handleProbeReply(_ body: ByteBuffer, now: Instant) -> Result<TimeSpan, MonitorDropReason> {
        monitorArrivals += 1
        guard let reply = ProbeFrame.parse(body) else { return drop(.malformed) }
        let slot = Int(reply.sequence % UInt32(outstandingOpen.count))
        guard outstandingOpen[slot], outstandingSequence[slot] == reply.sequence,
            outstandingSentAt[slot] == reply.senderTime
        else { return drop(.unmatchedReply) }
        let sentAt = Instant(nanoseconds: Int64(bitPattern: reply.senderTime))
        guard reply.reflectorSendTime >= reply.reflectorReceiveTime else { return drop(.implausibleTimes) }
        let hold = TimeSpan(nanoseconds: Int64(clamping: reply.reflectorSendTime - reply.reflectorReceiveTime))
        let sample = (now - sentAt) - hold
        guard sample >= .zero else { return drop(.implausibleTimes) }
        outstandingOpen[slot] = false
        addRTT(sample)
        forward.noteAlive(sentAt: sentAt)
        return .success(sample)
    }

    /// A RECEIVER_REPORT frame body arrived: the peer's view of our forward direction.
    @discardableResult
    public mutating func handleReceiverReport(_ body: ByteBuffer, now: Instant) -> Result<Void, MonitorDropReason> {
        monitorArrivals += 1
        guard let report = ReceiverReportFrame.parse(body) else { return drop(.malformed) }
        switch forward.accept(report, highestSent: highestSent, now: now) {
        case .failure(let reason):
            return drop(reason)
        case .success(let accepted):
            if let sample = accepted.rttSample { addRTT(sample) }
            return .success(())
        }
    }

    /// Switches between the active and the standby probe interval.
    public mutating func setStandby(_ standby: Bool, now: Instant) {
        scheduler.setStandby(standby, now: now)
        updateDetectionWindow()
    }

    /// Runs whatever is due at `now`: loss settling, liveness, the SLA evaluation.
    /// Whether `handleTimeout(now:)` would change nothing at `now`: no timer of the monitor is due
    /// (a gap to settle, a liveness deadline, an evaluation tick), neither direction's liveness has
    /// changed, and no loss window would slide. The engine skips the timeout then: a shaper's
    /// deadline wakes the engine for every shaped packet, and each woke every link's monitor.
    /// `mutating` only so that the call borrows the monitor in place (see `nextDeadline`).
    public mutating func isIdle(at now: Instant) -> Bool {
        guard let due = nextDeadline(), now < due else { return false }
        let reverseNow = reverse.lastArrival.map { now - $0 < detectionWindow } ?? false
        let forwardNow = forward.lastAlive.map { now - $0 < forwardDetectionWindow } ?? false
        guard reverseNow == reverseAlive, forwardNow == forwardAlive else { return false }
        return !reverse.windowsWouldSlide(at: now) && !forward.windowsWouldSlide(at: now)
    }

    public mutating func handleTimeout(now: Instant) {
        reverse.settle(now: now)
        reverse.advanceWindows(to: now)
        forward.advance(to: now)
        let reverseNow = reverse.lastArrival.map { now - $0 < detectionWindow } ?? false
        let forwardNow = forward.lastAlive.map { now - $0 < forwardDetectionWindow } ?? false
        let changed = reverseNow != reverseAlive || forwardNow != forwardAlive
        reverseAlive = reverseNow
        forwardAlive = forwardNow
        let tick = now >= nextEvaluation
        if tick {
            nextEvaluation = nextEvaluation + configuration.evaluationInterval
            if nextEvaluation <= now { nextEvaluation = now + configuration.evaluationInterval }
        }
        guard changed || tick else { return }
        let breach = forwardAlive && reverseAlive ? slaBreach() : nil
        if let event = machine.evaluate(
            now: now,
            forwardAlive: forwardAlive,
            reverseAlive: reverseAlive,
            breach: breach,
            tick: tick
        ) {
            events.append(event)
        }
    }

    // MARK: Outputs

    /// Whether `pollFrame(now:…)` may write anything: its conditions, read without touching state
    /// (the engine asks after every input; most of the time nothing is due). `false` means
    /// `pollFrame` would write nothing and change nothing; `true` may still come to nothing (a
    /// probe postponed or suppressed).
    /// `mutating` only so that the call borrows the monitor in place (see `nextDeadline`).
    @inline(__always)
    public mutating func hasFrameDue(now: Instant) -> Bool {
        now >= scheduler.nextDue || reportWithProbe
            || (dataArrivalsSinceReport > 0 && now >= lastReportAt + configuration.reportInterval)
    }

    /// Writes the next monitor frame due at `now` into `buffer` and returns its type, or `nil`
    /// when nothing is due. Call until `nil`: a probe may be followed by a report riding with it.
    public mutating func pollFrame(
        now: Instant,
        into buffer: inout ByteBuffer,
        using random: inout some RandomSource
    ) -> FrameType? {
        if scheduler.poll(now: now, lastSent: lastSentAt, using: &random) {
            let slot = Int(nextProbeSequence % UInt32(outstandingOpen.count))
            let sentAt = UInt64(bitPattern: now.nanoseconds)
            outstandingSequence[slot] = nextProbeSequence
            outstandingSentAt[slot] = sentAt
            outstandingOpen[slot] = true
            ProbeFrame(sequence: nextProbeSequence, senderTime: sentAt).write(.probe, to: &buffer)
            nextProbeSequence &+= 1
            // Every probe carries the latest report, new or not: the peer's forward evidence must
            // not hang on one report surviving (a lost report is repeated by the next packet).
            reportWithProbe = reverse.highestCounter != nil
            return .probe
        }
        if reportWithProbe || (dataArrivalsSinceReport > 0 && now >= lastReportAt + configuration.reportInterval) {
            writeReport(now: now, into: &buffer)
            return .receiverReport
        }
        return nil
    }

    /// The next status change, oldest first.
    public mutating func pollEvent() -> LinkEvent? {
        guard eventHead < events.count else { return nil }
        let event = events[eventHead]
        eventHead += 1
        if eventHead == events.count {
            events.removeAll(keepingCapacity: true)
            eventHead = 0
        }
        return event
    }

    /// When the monitor next needs `handleTimeout` or `pollFrame`. It changes nothing; it is
    /// `mutating` (as quinn-proto's `poll_timeout(&mut self)`) so the call borrows the monitor in
    /// place: a non-mutating call on a stored monitor copied all 1.3 kB of it on every packet.
    public mutating func nextDeadline() -> Instant? {
        var deadline = min(scheduler.nextDue, nextEvaluation)
        if dataArrivalsSinceReport > 0 { deadline = min(deadline, lastReportAt + configuration.reportInterval) }
        if reverseAlive, let last = reverse.lastArrival { deadline = min(deadline, last + detectionWindow) }
        if forwardAlive, let last = forward.lastAlive { deadline = min(deadline, last + forwardDetectionWindow) }
        if let settle = reverse.nextSettleDeadline { deadline = min(deadline, settle) }
        return deadline
    }

    // MARK: Internals

    private var dataArrivalsSinceReport: Int { reverse.arrivalsSinceReport - monitorArrivals }

    private mutating func writeReport(now: Instant, into buffer: inout ByteBuffer) {
        let hold = reverse.highestCounter == nil ? 0 : max(0, (now - reverse.highestArrival).nanoseconds / 1_000)
        ReceiverReportFrame(
            sequence: nextReportSequence,
            highestCounter: reverse.highestCounter ?? 0,
            echoedTimestamp: reverse.highestTimestamp,
            holdMicroseconds: UInt32(clamping: hold),
            received: reverse.received,
            lost: reverse.lost,
            jitterMicroseconds: UInt32(clamping: reverse.jitter.nanoseconds / 1_000),
            pdvP99Microseconds: UInt32(clamping: reverse.pdvP99.nanoseconds / 1_000)
        ).write(to: &buffer)
        nextReportSequence &+= 1
        lastReportAt = now
        reportWithProbe = false
        reverse.markReported()
        monitorArrivals = 0
    }

    private mutating func addRTT(_ sample: TimeSpan) {
        rtt.add(sample)
        updateDetectionWindow()
    }

    /// W = max(M × I, base + N × SRTT) (BFD's multiplier × interval, RFC 5880 §6.8.4, with Aruba's
    /// RTT-adaptive wait so long-RTT links are not declared dead between round trips).
    private mutating func updateDetectionWindow() {
        let byInterval = scheduler.interval * configuration.missedIntervals
        let byRTT = configuration.silenceBase + (rtt.smoothed ?? .zero) * configuration.silenceRTTMultiplier
        detectionWindow = max(byInterval, byRTT)
    }

    private func rFactor(_ direction: LinkDirection) -> Double? {
        guard let srtt = rtt.smoothed else { return nil }
        let pdv: TimeSpan
        let loss: Double?
        let burst: Double?
        switch direction {
        case .forward:
            (pdv, loss, burst) = (forward.pdvP99, forward.longWindow.ratio, nil)
        case .reverse:
            (pdv, loss, burst) = (reverse.pdvP99, reverse.longWindow.ratio, reverse.meanBurstLength)
        }
        let ratio = loss ?? 0
        // E-model delay d = RTT/2 + the jitter-buffer allowance.
        let d = srtt / 2 + max(configuration.minimumJitterBuffer, pdv)
        return EModel.rFactor(
            oneWayDelay: d,
            lossRatio: ratio,
            burstRatio: EModel.burstRatio(meanBurstLength: burst, lossRatio: ratio),
            codec: configuration.codec
        )
    }

    /// The first SLA limit broken now, checked loss, latency, jitter, voice quality.
    private func slaBreach() -> SLABreach? {
        let sla = configuration.sla
        for direction in LinkDirection.allCases {
            let (short, long) =
                switch direction {
                case .forward: (forward.shortWindow, forward.longWindow)
                case .reverse: (reverse.shortWindow, reverse.longWindow)
                }
            // The shortest window that holds enough packets to tell (SLAThresholds.lossBreached).
            let verdict =
                sla.lossBreached(lost: short.lostTotal, samples: short.samples)
                ?? sla.lossBreached(lost: long.lostTotal, samples: long.samples) ?? false
            if verdict { return .loss(direction) }
        }
        if let limit = sla.maxRTT, let srtt = rtt.smoothed, srtt > limit { return .latency }
        if let limit = sla.maxJitter {
            if forward.jitter > limit { return .jitter(.forward) }
            if reverse.jitter > limit { return .jitter(.reverse) }
        }
        if let minimum = sla.minRFactor {
            for direction in LinkDirection.allCases {
                if let r = rFactor(direction), r < minimum { return .voiceQuality(direction) }
            }
        }
        return nil
    }

    private mutating func drop<T>(_ reason: MonitorDropReason) -> Result<T, MonitorDropReason> {
        drops[Self.index(reason)] += 1
        return .failure(reason)
    }

    private static func index(_ reason: MonitorDropReason) -> Int {
        switch reason {
        case .malformed: 0
        case .probeWithReflectorTimes: 1
        case .replayedProbe: 2
        case .unmatchedReply: 3
        case .implausibleTimes: 4
        case .replayedReport: 5
        case .inconsistentReport: 6
        }
    }
}
