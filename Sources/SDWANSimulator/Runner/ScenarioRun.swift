import NIOCore
import SDWANConfig
import SDWANCore
import SDWANLinkModel

/// One run of a scenario: the hub endpoint and branch edges built from the topology and the
/// scenario's class table, the traffic sources and the timeline as events in the loop, and the
/// records the summary is made from (docs/simulator.md, "Runner").
///
/// Randomness, all from the scenario seed: keys from stream `keys`, edge `b` and its links from
/// stream 100 + b (each link direction its own sub-stream, `TunnelNetwork`), the hub from stream
/// `hub`, flow `f` from stream 10 000 + f. Every table is an array in file order; nothing is
/// iterated in Dictionary or Set order.
public final class ScenarioRun {
    public let scenario: Scenario
    public let seed: UInt64
    public let duration: TimeSpan
    let network: TunnelNetwork
    /// Buffers of delivered packets, written again by the traffic sources.
    @exclusivity(unchecked) var pool = PacketPool()
    let random: SeededRandomSource
    // Read on every delivery and tick, on one thread: no dynamic exclusivity checks.
    @exclusivity(unchecked) var flows: [FlowRecord] = []
    @exclusivity(unchecked) var entries: [ClassStatistics] = []
    var links: [[LinkObservation]] = []
    /// The hub's branch engines' class counters from before each restart.
    var retiredHubCounters: [[ClassCounters]] = []
    var steps: [TimelineStep] = []
    var restarts = 0
    var rebinds = 0
    @exclusivity(unchecked) var unmarkedDeliveries: UInt64 = 0
    @exclusivity(unchecked) var duplicateDeliveries: UInt64 = 0
    let classifier: Classifier
    /// Branch names in topology order (looked up on every engine event; the topology is large).
    let branchNames: [String]
    /// Time series for `--report` (`Report/SeriesSampler.swift`); `nil`: not sampled.
    var sampler: SeriesSampler?

    enum ActionTag: Int {
        case flow = 0
        case timeline = 1
        case hubRestart = 2
        case sample = 3
    }

    static let keyStream: UInt64 = 0x4B45_5953
    static let hubStream: UInt64 = 0x4855_4221

    /// Builds the network for `scenario`; `seed` and `duration` override the file's; `seriesInterval`
    /// samples time series for a report every that much virtual time.
    public init(_ scenario: Scenario, seed: UInt64? = nil, duration: TimeSpan? = nil, seriesInterval: TimeSpan? = nil) {
        self.scenario = scenario
        self.seed = seed ?? scenario.seed
        self.duration = duration ?? scenario.duration
        random = SeededRandomSource(seed: self.seed)
        classifier = Classifier(rules: scenario.classes.rules, defaultClassIndex: scenario.classes.defaultClassIndex)
        branchNames = scenario.topology.branches.map(\.name)
        // TunnelNetwork's virtual wall clock starts at its `wallClockOrigin` (checked below).
        let wallAtZero = WallTime(secondsSinceEpoch: 1_800_000_000, nanoseconds: 0)
        network = TunnelNetwork(hub: Self.makeHub(scenario, random: random, now: .zero, wallTime: wallAtZero))
        precondition(network.wallTime(.zero) == wallAtZero, "the hub's wall clock must match the network's")
        buildEdges()
        buildFlows()
        scheduleTimeline()
        retiredHubCounters = scenario.topology.branches.map { _ in
            scenario.classes.classes.map { _ in ClassCounters() }
        }
        if let seriesInterval { startSampling(every: seriesInterval) }
    }

    /// The edges' link configurations for branch `b`: ids 0, 1, … in topology order.
    func linkConfigurations(_ b: Int) -> [EngineLinkConfiguration] {
        scenario.topology.branches[b].links.enumerated().map { l, link in
            func shaped(_ p: LinkDirectionParameters) -> Int64 {
                guard scenario.shaping > 0, let rate = p.rate else { return 0 }
                return Int64(Double(rate.bitsPerSecond) * scenario.shaping)
            }
            return EngineLinkConfiguration(
                id: UInt8(l),
                name: link.name,
                tier: link.tier,
                cost: Int(link.cost.rounded()),
                metered: link.metered,
                mtu: link.up.mtu ?? 1_500,
                shapedUpBitsPerSecond: shaped(link.up),
                shapedDownBitsPerSecond: shaped(link.down),
                monitor: scenario.monitor
            )
        }
    }

    /// A hub endpoint with every branch, keys regenerated from the key stream (a restart gets the
    /// very same keys).
    static func makeHub(
        _ scenario: Scenario,
        random: SeededRandomSource,
        generation: UInt64 = 0,
        now: Instant,
        wallTime: WallTime
    ) -> HubEndpoint {
        var keys = random.derived(keyStream)
        let hubKey = PrivateKey.generate(using: &keys)
        let hub = HubEndpoint(privateKey: hubKey, random: random.derived(hubStream &+ generation))
        for (b, branch) in scenario.topology.branches.enumerated() {
            let edgeKey = PrivateKey.generate(using: &keys)
            let psk = PresharedKey.generate(using: &keys)
            hub.addBranch(
                HubBranchConfiguration(
                    name: branch.name,
                    publicKey: edgeKey.publicKey,
                    allowedPrefixes: [InnerPackets.branchPrefix(b)],
                    engine: scenario.classes.engineConfiguration(links: [])
                ),
                presharedKey: psk,
                now: now,
                wallTime: wallTime
            )
        }
        return hub
    }

    func buildEdges() {
        var keys = random.derived(Self.keyStream)
        let hubKey = PrivateKey.generate(using: &keys)
        let hubPublic = hubKey.publicKey
        for (b, branch) in scenario.topology.branches.enumerated() {
            let edgeKey = PrivateKey.generate(using: &keys)
            let psk = PresharedKey.generate(using: &keys)
            let session = EdgeSession(localStatic: edgeKey, hubPublicKey: hubPublic, presharedKey: psk)
            network.addEdge(
                configuration: scenario.classes.engineConfiguration(links: linkConfigurations(b)),
                session: session,
                models: branch.links.map { ($0.up, $0.down) },
                random: random.derived(100 + UInt64(b))
            )
            links.append(branch.links.map { LinkObservation(name: $0.name) })
        }
    }

    func scheduleTimeline() {
        steps = scenario.timeline.steps.filter { .zero + $0.at < .zero + duration }
        for (i, step) in steps.enumerated() {
            network.simulation.schedule(.action(i << 2 | ActionTag.timeline.rawValue), at: .zero + step.at)
        }
        for (i, at) in scenario.hubRestarts.enumerated() where at < duration {
            network.simulation.schedule(.action(i << 2 | ActionTag.hubRestart.rawValue), at: .zero + at)
        }
    }

    /// Runs to the end; returns the wall time it took in seconds.
    public func run() -> Double {
        // Strong captures, let go when the run ends (an `unowned` capture cost an unowned-retain
        // check on every delivery); the loop's own closure does not escape.
        network.onDelivery = { branch, delivery, now in
            self.delivered(delivery, toBranch: branch, at: now)
            self.pool.recycle((consume delivery).packet)
        }
        network.onEvent = { branch, event, now in self.observe(event, branch: branch, at: now) }
        defer {
            network.onDelivery = nil
            network.onEvent = nil
        }
        let clock = ContinuousClock()
        let started = clock.now
        network.start()
        network.run(until: .zero + duration) { id, now in
            switch ActionTag(rawValue: id & 3) {
            // Borrowed, not retained (flows live as long as the run; see `delivered`).
            case .flow: Unmanaged.passUnretained(flows[id >> 2])._withUnsafeGuaranteedRef { self.tick($0, now: now) }
            case .timeline: self.apply(steps[id >> 2], now: now)
            case .hubRestart: self.restartHub(now: now)
            case .sample: self.takeSample(id >> 2, now: now)
            case nil: break
            }
        }
        let elapsed = started.duration(to: clock.now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    // MARK: Deliveries

    func delivered(_ delivery: Delivery, toBranch branch: Int?, at now: Instant) {
        guard let marker = InnerPackets.marker(of: delivery.packet) else {
            unmarkedDeliveries &+= 1
            return
        }
        if marker.flow & InnerPackets.ackBit != 0 {
            let f = Int(marker.flow & ~InnerPackets.ackBit)
            guard f < flows.count else { return }
            // Borrowed, not retained: flows and their class entries are all made before the run
            // and live as long as it (a retain and a release per delivery each).
            Unmanaged.passUnretained(flows[f])._withUnsafeGuaranteedRef { flow in
                acknowledged(flow, sequence: marker.sequence, sentAt: marker.sentAt, now: now)
            }
            return
        }
        let f = Int(marker.flow)
        guard f < flows.count else {
            unmarkedDeliveries &+= 1
            return
        }
        Unmanaged.passUnretained(flows[f])._withUnsafeGuaranteedRef { flow in
            Unmanaged.passUnretained(entries[flow.entry])._withUnsafeGuaranteedRef { entry in
                delivered(marker, of: flow, entry: entry, at: now)
            }
        }
    }

    private func delivered(
        _ marker: (flow: UInt32, sequence: UInt32, sentAt: Instant, aux: UInt32),
        of flow: FlowRecord,
        entry: ClassStatistics,
        at now: Instant
    ) {
        guard flow.recordDelivery(marker.sequence, at: now) else {
            duplicateDeliveries &+= 1
            return
        }
        entry.delays.record(now - marker.sentAt)
        entry.deliveredBytes &+= UInt64(flow.size)
        sampler?.delivered(entry: flow.entry, sentAt: marker.sentAt, delay: now - marker.sentAt)
        switch flow.source {
        case .transactionRequests(_, _, let responses) where marker.aux == 1:
            respond(flows[responses], now: now)
        case .bulk:
            sendAcknowledgement(for: flow, sequence: marker.sequence, sentAt: marker.sentAt)
        default:
            break
        }
    }

    // MARK: Events

    func observe(_ event: EngineEvent, branch: Int?, at now: Instant) {
        if let b = branch {
            if case .link(let id, let linkEvent) = event, Int(id) < links[b].count {
                links[b][Int(id)].record(linkEvent)
            }
        }
        updateChoices(now: now)
    }

    /// Counts path changes per class and end, and marks blackouts as steered, from the engines'
    /// current choices (the hub's events do not say which branch they came from).
    func updateChoices(now: Instant) {
        for entry in entries {
            let choice: [Int]
            if entry.direction == .up {
                choice = network.edges[entry.branch].choice(forClass: entry.classIndex).links
            } else {
                // `choice(forClass:)` reports link ids (= link indices of the branch).
                guard let engine = network.hub.engine(forBranch: branchNames[entry.branch]) else { continue }
                choice = engine.choice(forClass: entry.classIndex).links
            }
            if let last = entry.lastChoice, last != choice { entry.pathChanges &+= 1 }
            entry.lastChoice = choice
        }
        for b in links.indices {
            for l in links[b].indices where links[b][l].awaitingSteer {
                if !linkCarriesTraffic(branch: b, link: l) { links[b][l].steered(at: now) }
            }
        }
    }

    /// Whether any class at either end of branch `b` still sends on link `l`.
    func linkCarriesTraffic(branch b: Int, link l: Int) -> Bool {
        let edge = network.edges[b]
        let classCount = scenario.classes.classes.count
        for c in 0..<classCount where edge.choice(forClass: c).links.contains(l) { return true }
        if let hubEngine = network.hub.engine(forBranch: branchNames[b]) {
            for c in 0..<classCount where hubEngine.choice(forClass: c).links.contains(l) { return true }
        }
        return false
    }
}
