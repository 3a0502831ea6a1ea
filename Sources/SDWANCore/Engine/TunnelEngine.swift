import NIOCore

/// The keys a tunnel seals and opens with: the edge initiates, the hub answers (docs/crypto.md).
public enum TunnelKeys {
    case edge(EdgeSession)
    case hub(BranchSession)
}

/// One tunnel between a branch edge and a hub: its links (each with a path monitor and a shaper),
/// its classes (each with a path selector, FEC and a hold queue), dedupe, and the secure session.
/// The edge runs one; the hub endpoint runs one per branch. Pure: no sockets, no clock reads; all
/// randomness from the generator it was given.
///
/// quinn-proto's shape (docs/architecture.md, "Engine"). Inputs, each with `now`:
/// `handleInnerPacket` (a packet from the local side), `handleDatagram` (the edge) or
/// `handleOpened` (the hub endpoint, after it found this tunnel by receiver index),
/// `handleLinkStatus` (the I/O ring saw an interface go or come back), `handleTimeout`.
///
/// The hot stored properties skip Swift's dynamic exclusivity checks (`@exclusivity(unchecked)`):
/// the engine is confined to one thread (the node's event loop or the simulator) and never
/// re-enters itself, so the checks only cost time (17 % of the send path under callgrind).
///
/// Drain order after every input: `pollTransmit()` until `nil`, `pollDelivery()` until `nil`,
/// `pollEvent()` until `nil`, then arm the timer at `nextDeadline()`. Every input ends by moving
/// whatever the shapers allow into the transmit queue, so the drain needs no extra call.
public final class TunnelEngine {
    /// The configuration running now (`apply(_:now:)` replaces it).
    @exclusivity(unchecked) public internal(set) var configuration: EngineConfiguration
    public let keys: TunnelKeys
    /// `keys`' session as plain constants: the per-packet paths call them borrowed, where binding
    /// an enum payload (`case .edge(let s)`) retained and released the session on every call.
    let edgeSession: EdgeSession?
    let hubSession: BranchSession?
    let links = ComponentTable<EngineLink>()
    /// Link id → index in `links`, or -1.
    @exclusivity(unchecked) var linkIndex = [Int](repeating: -1, count: 256)
    let classes = ComponentTable<EngineClass>()
    @exclusivity(unchecked) var classifier: Classifier
    @exclusivity(unchecked) var dedupe: DedupeWindow
    @exclusivity(unchecked) var nextTunnelSequence: UInt64 = 0
    /// Recent flows' buckets (`balance` classes), so that their packets skip the hash.
    @exclusivity(unchecked) var flowBuckets = FlowBucketCache()
    @exclusivity(unchecked) var random: any RandomSource
    @exclusivity(unchecked) @usableFromInline var transmits = OutputQueue<Transmit>(initialCapacity: 64)
    @exclusivity(unchecked) @usableFromInline var deliveries = OutputQueue<Delivery>(initialCapacity: 64)
    @exclusivity(unchecked) @usableFromInline var events = OutputQueue<EngineEvent>(initialCapacity: 16)
    /// Reused for monitor frames, so that asking the monitors costs no allocation.
    @exclusivity(unchecked) var monitorScratch = ByteBufferAllocator().buffer(capacity: 256)
    /// Wall time at `wallAnchor.instant`, moved forward by `now` between `handleTimeout` calls.
    @exclusivity(unchecked) var wallAnchor: (instant: Instant, wall: WallTime)
    @exclusivity(unchecked) var icmpTokens: Double
    @exclusivity(unchecked) var icmpRefill: Instant
    @exclusivity(unchecked) var nextSelection: Instant
    @exclusivity(unchecked) var selectionDirty = true
    @exclusivity(unchecked) var allLinksSilentReported = false
    /// Each class's and each link's timer deadline, refreshed only for what an input touched
    /// (`touchClass`, `touchLink`; docs/architecture.md).
    @exclusivity(unchecked) var classDeadlines = DeadlineCache()
    @exclusivity(unchecked) var linkDeadlines = DeadlineCache()
    /// `nextDeadline()`'s last answer, good until the next input (`.none`: ask again). A hub asks
    /// every branch engine after each of its inputs and before each timeout; only the engine the
    /// input reached has anything new to say.
    @exclusivity(unchecked) var deadlineMemo: Instant?? = .none
    /// Whether every `nextDeadline()` checks the caches against a full walk and stops the
    /// process on a difference: set for engines made inside
    /// `TunnelEngine.$verifiesDeadlineCaches.withValue(true) { … }` (the scenario tests).
    let verifiesDeadlineCache = TunnelEngine.verifiesDeadlineCaches
    @TaskLocal public static var verifiesDeadlineCaches = false
    /// Links the peer announced (the hub's view of an edge).
    public internal(set) var peerLinks: [LinkAnnouncement] = []
    /// Handshakes completed (the first and every one after a lost session) and rekeys, at this
    /// end: a reload must move neither.
    public internal(set) var handshakesCompleted: UInt64 = 0
    public internal(set) var rekeys: UInt64 = 0
    /// ICMP "too big" replies sent for oversize inner packets.
    public internal(set) var icmpRepliesSent: UInt64 = 0
    /// Drops by reason (docs/path-selection.md, "Counters").
    @exclusivity(unchecked) public internal(set) var drops = [UInt64](
        repeating: 0,
        count: EngineDropReason.allCases.count
    )

    /// How often class choices are re-evaluated when nothing else forces it.
    static let selectionInterval = TimeSpan.milliseconds(100)

    /// A tunnel engine starting at `now` (the wall clock then is `wallTime`).
    public init(
        configuration: EngineConfiguration,
        keys: TunnelKeys,
        now: Instant,
        wallTime: WallTime,
        random: any RandomSource
    ) {
        self.configuration = configuration
        self.keys = keys
        switch keys {
        case .edge(let s): (edgeSession, hubSession) = (s, nil)
        case .hub(let s): (edgeSession, hubSession) = (nil, s)
        }
        self.random = random
        classifier = Classifier(rules: configuration.classRules, defaultClassIndex: configuration.defaultClassIndex)
        dedupe = DedupeWindow(size: configuration.dedupeWindow)
        // A random start below 2^62, so a restarted engine's sequences cannot be mistaken for the
        // old ones by the peer's dedupe (and never wrap).
        self.nextTunnelSequence = self.random.next() >> 2
        wallAnchor = (now, wallTime)
        icmpTokens = Double(configuration.icmpPerSecond)
        icmpRefill = now
        nextSelection = now
        innerMTU = configuration.innerMTU
        let maxMember = max(configuration.innerMTU, 1_500) + DataMemberHeader.maximumLength
        for (i, cls) in configuration.classes.enumerated() {
            classes.append(
                EngineClass(trafficClass: cls, classID: UInt8(i), fec: configuration.fec[i], maxMemberLength: maxMember)
            )
        }
        for link in configuration.links { addLink(link, now: now) }
        if case .edge(let session) = keys {
            session.setLinks(configuration.links.map(\.id))
        }
    }

    // MARK: Read-only state for status, metrics and tests

    /// The largest inner packet this tunnel carries, from the links it has now (the hub learns a
    /// branch's links from its announcement).
    @exclusivity(unchecked) public internal(set) var innerMTU: Int

    /// Whether the session has keys to send with.
    public var isEstablished: Bool {
        if let edgeSession { edgeSession.isEstablished } else { hubSession!.isEstablished }
    }

    /// The links (by link id) a class currently uses, best first.
    public func choice(forClass index: Int) -> PathChoice { linkIDs(of: classes[index].selector.choice) }

    /// A selector's choice with engine indices turned into link ids.
    func linkIDs(of choice: PathChoice) -> PathChoice {
        PathChoice(links: choice.links.map { Int(links[$0].configuration.id) }, reason: choice.reason)
    }

    public func counters(forClass index: Int) -> ClassCounters { classes[index].counters }

    /// The reorder stage's counters of a striped class (nil until a flow-sequenced packet arrived).
    public func reorderCounters(forClass index: Int) -> FlowReorder.Counters? { classes[index].reorder?.counters }

    /// FEC statistics of a class (sender and receiver side), when it uses FEC.
    public func fecStatistics(forClass index: Int) -> (encoder: FECEncoder.Statistics?, decoder: FECDecoder.Counters?) {
        (classes[index].encoder?.statistics, classes[index].decoder?.counters)
    }

    /// The ids of the links, in configuration order (the hub adds links as the edge announces them).
    public var linkIDs: [UInt8] { links.map(\.configuration.id) }

    public func linkStatus(_ id: UInt8) -> LinkStatus? { slot(id).map { links[$0].status } }
    public func linkQuality(_ id: UInt8) -> LinkQuality? { slot(id).map { links[$0].monitor.quality } }
    public func linkConfiguration(_ id: UInt8) -> EngineLinkConfiguration? { slot(id).map { links[$0].configuration } }
    public func linkDestination(_ id: UInt8) -> UDPEndpoint? { slot(id).flatMap { links[$0].destination } }
    public func linkTraffic(
        _ id: UInt8
    ) -> (packetsSent: UInt64, bytesSent: UInt64, packetsReceived: UInt64, bytesReceived: UInt64)? {
        slot(id).map {
            (links[$0].packetsSent, links[$0].bytesSent, links[$0].packetsReceived, links[$0].bytesReceived)
        }
    }
    public func shaperDrops(_ id: UInt8) -> [UInt64]? { slot(id).map { links[$0].shaper.dropped } }
    public var unparseableInnerPackets: UInt64 { classifier.unparseable }

    func slot(_ id: UInt8) -> Int? {
        let i = linkIndex[Int(id)]
        return i >= 0 ? i : nil
    }

    func count(_ reason: EngineDropReason) { drops[reason.rawValue] &+= 1 }

    /// Wall time at `now`, from the last anchor the shell gave.
    func wallTime(at now: Instant) -> WallTime {
        let elapsed = (now - wallAnchor.instant).nanoseconds
        let total = Int64(wallAnchor.wall.nanoseconds) + max(0, elapsed)
        return WallTime(
            secondsSinceEpoch: wallAnchor.wall.secondsSinceEpoch + total / 1_000_000_000,
            nanoseconds: UInt32(total % 1_000_000_000)
        )
    }

    func addLink(_ link: EngineLinkConfiguration, now: Instant) {
        touchAllLinks()
        linkIndex[Int(link.id)] = links.count
        links.append(EngineLink(configuration: link, now: now))
        selectionDirty = true
        updateInnerMTU()
    }

    /// The inner MTU for the links as they are now (EngineConfiguration.innerMTU's formula).
    func updateInnerMTU() {
        var c = configuration
        c.links = links.map(\.configuration)
        innerMTU = c.innerMTU
    }

    // MARK: Inputs

    /// Starts the session (the edge sends its initiations on every link).
    public func start(now: Instant, wallTime: WallTime) {
        inputArrived()
        wallAnchor = (now, wallTime)
        if case .edge(let session) = keys {
            session.connect(now: now, wallTime: wallTime, using: &random)
            drainSession(now: now)
        }
        flush(now: now)
    }

    /// The I/O ring's view of a link's interface: a vanished interface takes the link down at once
    /// (no need to wait for the monitor's silence window); its return lets the monitor probe again.
    public func handleLinkStatus(_ id: UInt8, up: Bool, now: Instant) {
        inputArrived()
        guard let i = slot(id), links[i].locallyUp != up else { return }
        touchAllLinks()
        links[i].locallyUp = up
        selectionDirty = true
        reselect(now: now)
        flush(now: now)
    }

    /// Runs the timers due at `now`. `wallTime` is the wall clock now (handshake timestamps only).
    public func handleTimeout(now: Instant, wallTime: WallTime) {
        inputArrived()
        wallAnchor = (now, wallTime)
        // Through the constants, not a binding (`case .edge(let session)` retained and released
        // the session on every timeout).
        if edgeSession != nil {
            edgeSession!.handleTimeout(now: now, wallTime: wallTime, using: &random)
        } else {
            hubSession!.handleTimeout(now: now)
        }
        drainSession(now: now)
        // A monitor with nothing due is left alone (`isIdle`: its timeout would change nothing);
        // the shapers, whose deadlines wake most timeouts, are flushed below. Only the links whose
        // state changes have their cached deadlines asked again: the monitors that ran here, the
        // shapers `flush` empties and the links `send` uses (a re-selection touches them all).
        for i in links.indices where !links[i].monitor.isIdle(at: now) {
            touchLink(i)
            links[i].monitor.handleTimeout(now: now)
            drainMonitorEvents(i)
        }
        // Only classes with something due, read from the deadline cache (stale entries are asked
        // again first): their parity and rebuilt packets were drained when they were made, so only
        // their timers could have work now.
        refreshClassDeadlines()
        for c in classes.indices {
            guard let due = classDeadlines.deadline(c), due <= now else { continue }
            touchClass(c)
            classes[c].encoder?.handleTimeout(now: now)
            drainParity(c, now: now)
            classes[c].decoder?.handleTimeout(now: now)
            drainRecovered(c, now: now)
            expireReorder(c, now: now)
            expireHold(c, now: now)
        }
        if now >= nextSelection { selectionDirty = true }
        reselect(now: now)
        checkAllLinksSilent(now: now)
        flush(now: now)
    }

    /// The earliest instant `handleTimeout` has work to do.
    ///
    /// Called after every input, so it asks again only the links and classes the input touched
    /// (the deadline caches) and reads each component in place (`inPlace`: a non-mutating call on
    /// a component stored in the engine's arrays copied the whole component first).
    public func nextDeadline() -> Instant? {
        if case .some(let memo) = deadlineMemo, !verifiesDeadlineCache { return memo }
        var deadline = nextSelection
        if let edgeSession {
            deadline = Self.earlier(deadline, edgeSession.nextDeadline())
        } else {
            deadline = Self.earlier(deadline, hubSession!.nextDeadline())
        }
        // The monitors' probes and reports can only leave with keys and a destination; their
        // timers wait until then (a due frame that cannot leave must not re-arm the timer at once).
        if isEstablished {
            refreshLinkDeadlines()
            deadline = Self.earlier(deadline, linkDeadlines.earliest)
        }
        refreshClassDeadlines()
        deadline = Self.earlier(deadline, classDeadlines.earliest)
        if verifiesDeadlineCache {
            if isEstablished { linkDeadlines.verifyEarliest() }
            classDeadlines.verifyEarliest()
            for i in links.indices where isEstablished {
                precondition(linkDeadlines.deadline(i) == links[i].nextDeadline(), "stale deadline cache of link \(i)")
            }
            for c in classes.indices {
                precondition(
                    classDeadlines.deadline(c) == classes[c].nextDeadline(),
                    "stale deadline cache of class \(c)"
                )
            }
            if case .some(let memo) = deadlineMemo {
                precondition(memo == deadline, "stale deadline memo: \(String(describing: memo)) != \(deadline)")
            }
        }
        deadlineMemo = .some(deadline)
        return deadline
    }

    /// Something may change a timer: the next `nextDeadline()` asks the components again (the
    /// caches still spare those nothing touched). Every input calls it first; the hub endpoint
    /// calls it after it installs or uses the branch's keys (the session is shared with it).
    @inline(__always)
    func inputArrived() { deadlineMemo = .none }

    /// Marks class `c`'s cached deadline stale (call after changing its FEC, hold or reorder state).
    @inline(__always)
    func touchClass(_ c: Int) { classDeadlines.touch(c) }

    /// Marks every class's cached deadline stale.
    func touchAllClasses() { classDeadlines.touchAll() }

    /// Marks link `i`'s cached deadline stale (call after its monitor, shaper or destination changed).
    @inline(__always)
    func touchLink(_ i: Int) { linkDeadlines.touch(i) }

    func touchAllLinks() { linkDeadlines.touchAll() }

    func refreshLinkDeadlines() { linkDeadlines.refresh(count: links.count) { links[$0].nextDeadline() } }

    func refreshClassDeadlines() {
        classDeadlines.refreshKeepingEarliest(count: classes.count) { classes[$0].nextDeadline() }
    }

    @inline(__always)
    static func earlier(_ a: Instant, _ b: Instant?) -> Instant {
        if let b, b < a { b } else { a }
    }

    // MARK: Outputs

    @inlinable public func pollTransmit() -> Transmit? { transmits.popFirst() }
    @inlinable public func pollDelivery() -> Delivery? { deliveries.popFirst() }
    @inlinable public func pollEvent() -> EngineEvent? { events.popFirst() }

    // MARK: Session plumbing

    /// Moves the session's handshake datagrams and events into the engine's queues.
    func drainSession(now: Instant) {
        // The session is called through the constant, not bound to a local: a binding retained and
        // released it on every input (most find nothing to drain).
        if edgeSession != nil {
            while let t = edgeSession!.pollTransmit() {
                guard let i = slot(t.linkID), let destination = links[i].destination else { continue }
                transmits.append(Transmit(linkID: t.linkID, destination: destination, datagram: t.datagram, dscp: 0))
                links[i].packetsSent &+= 1
                links[i].bytesSent &+= UInt64(t.datagram.readableBytes)
            }
            while let e = edgeSession!.pollEvent() { handleSessionEvent(e, now: now) }
        } else {
            while let e = hubSession!.pollEvent() { handleSessionEvent(e, now: now) }
        }
    }

    func handleSessionEvent(_ event: SessionEvent, now: Instant) {
        events.append(.session(event))
        switch event {
        case .handshakeCompleted: handshakesCompleted &+= 1
        case .rekeyed: rekeys &+= 1
        case .keysExpired, .sessionRetired: break
        }
        switch event {
        case .handshakeCompleted, .rekeyed:
            // `allLinksSilentReported` stays set until a link is alive again: resetting it here
            // would re-handshake on every timer while the links recover (a rekey storm).
            if case .edge = keys { announceLinks(now: now) }
            releaseHeld(now: now)
        case .keysExpired, .sessionRetired:
            break
        }
    }

    /// The edge re-handshakes at once when every link has gone silent (a hub restart loses our
    /// session; docs/crypto.md "Lifecycle").
    func checkAllLinksSilent(now: Instant) {
        guard case .edge(let session) = keys, !links.isEmpty else { return }
        // Silent: every actively probed link is down (a standby link's long interval would delay
        // the verdict by seconds), or every link is.
        // Two passes instead of `links.filter`: this runs on every timeout, and filtering copied
        // every link (monitors included) into a new array.
        let anyActive = links.contains { !$0.monitor.isStandby }
        let silent = links.allSatisfy {
            (anyActive && $0.monitor.isStandby) || $0.status == .down || $0.status == .probing
        }
        if !silent {
            allLinksSilentReported = false
            return
        }
        guard !allLinksSilentReported, session.isEstablished else { return }
        allLinksSilentReported = true
        session.handleAllLinksSilent(now: now, wallTime: wallTime(at: now), using: &random)
        drainSession(now: now)
    }
}
