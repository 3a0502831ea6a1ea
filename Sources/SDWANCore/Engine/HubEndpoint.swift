import NIOCore

/// One branch as the hub knows it.
public struct HubBranchConfiguration: Sendable {
    public var name: String
    public var publicKey: PublicKey
    /// Inner source addresses this branch may use, and the destinations the hub routes to it
    /// (cryptokey routing, as WireGuard's AllowedIPs).
    public var allowedPrefixes: [IPPrefix]
    /// Classes and policies for traffic to this branch (the hub's own config with per-branch
    /// overrides); links come from the branch's announcements.
    public var engine: EngineConfiguration

    public init(name: String, publicKey: PublicKey, allowedPrefixes: [IPPrefix], engine: EngineConfiguration) {
        self.name = name
        self.publicKey = publicKey
        self.allowedPrefixes = allowedPrefixes
        self.engine = engine
    }
}

/// Branch-to-branch forwarding is denied unless a rule allows it (a POS network must not reach
/// another store by default). A rule allows packets from `fromBranch` whose source lies in
/// `sources` to `toBranch` whose destination lies in `destinations`; empty lists mean any.
public struct BranchForwardingRule: Hashable, Sendable {
    public var fromBranch: String
    public var toBranch: String
    public var sources: [IPPrefix]
    public var destinations: [IPPrefix]

    public init(fromBranch: String, toBranch: String, sources: [IPPrefix] = [], destinations: [IPPrefix] = []) {
        self.fromBranch = fromBranch
        self.toBranch = toBranch
        self.sources = sources
        self.destinations = destinations
    }

    func allows(from: String, to: String, _ header: InnerPacketHeader) -> Bool {
        from == fromBranch && to == toBranch && (sources.isEmpty || sources.contains { $0.contains(header.source) })
            && (destinations.isEmpty || destinations.contains { $0.contains(header.destination) })
    }
}

/// A datagram the hub sends, from the listener the branch's link used.
public struct HubTransmit: Sendable {
    public var listener: Int
    public var destination: UDPEndpoint
    public var datagram: ByteBuffer
    public var dscp: UInt8
}

/// Why the hub endpoint dropped something (beyond the session's and the engines' own counters).
public enum HubDropReason: Int, Hashable, Sendable, CaseIterable {
    /// A transport packet whose receiver index names no live session.
    case unknownReceiverIndex
    /// Neither a handshake initiation nor a transport packet.
    case unexpectedMessage
    /// A transport packet that failed to open (AEAD, replay, expired keys, malformed header).
    case openFailed
    /// An inner packet from a branch whose source lies outside the branch's allowed prefixes.
    case spoofedSource
    /// A branch-to-branch packet no forwarding rule allows.
    case forwardingDenied
    /// An inner packet (from the data centre) with no branch prefix for its destination.
    case noRoute
    /// An inner packet that is not IPv4/IPv6 (cryptokey routing needs the addresses).
    case unparseableInner
}

/// The hub's endpoint (quinn's `Endpoint` beside `Connection`): the handshake responder, one
/// `TunnelEngine` per branch found by receiver index, cryptokey routing and branch-to-branch rules.
///
/// Inputs: `handleDatagram` (from any listener), `handleInnerPacket` (from the data centre),
/// `handleTimeout`. Drain after each: `pollTransmit()`, `pollDelivery()` (to the data centre),
/// `pollEvent()`, then `nextDeadline()`.
public final class HubEndpoint {
    struct Branch {
        var configuration: HubBranchConfiguration
        var session: BranchSession
        var engine: TunnelEngine
        /// Link id → the listener the branch's link last reached us on.
        var listeners = [Int](repeating: 0, count: 256)
    }

    let responder: HandshakeResponder
    // Confined to one thread like the engines (no re-entrancy): no dynamic exclusivity checks.
    @exclusivity(unchecked) var branches: [Branch] = []
    @exclusivity(unchecked) var branchByKey: [PublicKey: Int] = [:]
    /// Session index → branch. Every change forgets `lastIndexLookup` (SE-0268: a `didSet` that
    /// does not read the old value leaves the dictionary changed in place).
    @exclusivity(unchecked) var branchByIndex: [UInt32: Int] = [:] {
        didSet { lastIndexLookup.branch = -1 }
    }
    /// The last session index looked up and its branch (−1: none): a branch's datagrams come in
    /// runs, and hashing the index for each cost ~0.5 % of a simulation.
    @exclusivity(unchecked) var lastIndexLookup: (index: UInt32, branch: Int) = (0, -1)
    /// Every branch's allowed prefixes, longest match first (ties in branch order): the route
    /// lookup reads this instead of every branch's configuration (which copied each branch per
    /// packet).
    @exclusivity(unchecked) var routes = PrefixTable<Int>([])
    /// Each branch's allowed prefixes (the source check of what it sends), beside `branches` so
    /// the check reads no configuration.
    @exclusivity(unchecked) var sourcePrefixes: [[IPPrefix]] = []
    /// Branch engines' deadlines, from `deadlineTreeFrom` branches on (HubEndpoint+Deadlines).
    @exclusivity(unchecked) var branchDeadlines = DeadlineTree()
    @exclusivity(unchecked) var staleBranches: [Int] = []
    @exclusivity(unchecked) var branchIsStale: [Bool] = []
    /// Whether `nextDeadline()` checks the tree against every engine (the scenario tests; see
    /// `TunnelEngine.verifiesDeadlineCaches`).
    let verifiesDeadlineCache = TunnelEngine.verifiesDeadlineCaches
    @exclusivity(unchecked) var random: any RandomSource
    /// Branch-to-branch rules (`setForwardingRules` replaces them on reload).
    public internal(set) var forwardingRules: [BranchForwardingRule]
    @exclusivity(unchecked) @usableFromInline var transmits = OutputQueue<HubTransmit>(initialCapacity: 64)
    @exclusivity(unchecked) @usableFromInline var deliveries = OutputQueue<Delivery>(initialCapacity: 64)
    @exclusivity(unchecked) @usableFromInline var events = OutputQueue<(branch: String, event: EngineEvent)>(
        initialCapacity: 16
    )
    @exclusivity(unchecked) public private(set) var drops = [UInt64](repeating: 0, count: HubDropReason.allCases.count)

    public init(
        privateKey: borrowing PrivateKey,
        forwardingRules: [BranchForwardingRule] = [],
        random: any RandomSource
    ) {
        responder = HandshakeResponder(localStatic: privateKey)
        self.forwardingRules = forwardingRules
        self.random = random
    }

    /// The hub's public key (what branches configure).
    public var publicKey: PublicKey { responder.publicKey }

    /// Adds a branch with its PSK (all-zero `PresharedKey.none()` when it has none).
    public func addBranch(
        _ configuration: HubBranchConfiguration,
        presharedKey: borrowing PresharedKey,
        now: Instant,
        wallTime: WallTime
    ) {
        precondition(branchByKey[configuration.publicKey] == nil, "branch keys are unique")
        responder.addPeer(configuration.publicKey, presharedKey: presharedKey)
        let session = BranchSession(peer: configuration.publicKey)
        var engineRandom = random
        let seed = engineRandom.next()
        random = engineRandom
        let engine = TunnelEngine(
            configuration: configuration.engine,
            keys: .hub(session),
            now: now,
            wallTime: wallTime,
            random: SeededRandomSource(seed: seed)
        )
        branchByKey[configuration.publicKey] = branches.count
        branches.append(Branch(configuration: configuration, session: session, engine: engine))
        branchAdded()
        rebuildRoutes()
    }

    /// Rebuilds `routes` and `sourcePrefixes` after the branch table changed.
    func rebuildRoutes() {
        sourcePrefixes = branches.map(\.configuration.allowedPrefixes)
        var table: [(prefix: IPPrefix, branch: Int)] = []
        for b in branches.indices {
            for prefix in branches[b].configuration.allowedPrefixes { table.append((prefix, b)) }
        }
        routes = PrefixTable(table.map { ($0.prefix, $0.branch) })
    }

    /// The engine of a branch, by name (status, metrics, tests), for reading: inputs go through
    /// the hub, which drains the engine and keeps its deadline (HubEndpoint+Deadlines).
    public func engine(forBranch name: String) -> TunnelEngine? {
        branches.first { $0.configuration.name == name }?.engine
    }

    public var branchNames: [String] { branches.map(\.configuration.name) }

    func count(_ reason: HubDropReason) { drops[reason.rawValue] &+= 1 }

    // MARK: Inputs

    /// A datagram that arrived on listener `listener` from `source`. Pass its last reference
    /// (`consume`): a transport packet is opened in place and handed on without a copy.
    public func handleDatagram(_ datagram: consuming ByteBuffer, listener: Int, source: UDPEndpoint, now: Instant) {
        var buffer = datagram
        switch buffer.getInteger(at: buffer.readerIndex, as: UInt8.self).flatMap(MessageType.init(rawValue:)) {
        case .handshakeInitiation:
            let linkID = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt8.self) ?? 0
            let result = responder.handleInitiation(buffer, linkID: linkID, now: now, using: &random) {
                self.branchByIndex[$0] != nil
            }
            guard case .success(let accept) = result, let b = branchByKey[accept.peer] else { return }
            branches[b].session.install(accept.session)
            branches[b].engine.inputArrived()
            branchByIndex[accept.session.localIndex] = b
            branches[b].listeners[Int(linkID)] = listener
            transmits.append(
                HubTransmit(listener: listener, destination: source, datagram: accept.response.datagram, dscp: 0)
            )
            drain(b, now: now)
        case .transport:
            guard case .success(let header) = TransportHeader.peek(buffer) else {
                count(.openFailed)
                return
            }
            guard let b = branch(forIndex: header.receiverIndex) else {
                count(.unknownReceiverIndex)
                return
            }
            // The branch's engine and session are borrowed for their calls, not retained (see
            // `drain`); the opened buffer moves into the engine through an optional (a closure
            // cannot consume what it captures).
            let unretainedEngine = Unmanaged.passUnretained(branches[b].engine)
            unretainedEngine._withUnsafeGuaranteedRef { $0.inputArrived() }  // opening may rotate the branch's keys
            let result = Unmanaged.passUnretained(branches[b].session)._withUnsafeGuaranteedRef {
                $0.open(&buffer, header: header, now: now)
            }
            switch result {
            case .success(let opened):
                branches[b].listeners[Int(opened.linkID)] = listener
                var moving: ByteBuffer? = consume buffer
                unretainedEngine._withUnsafeGuaranteedRef {
                    $0.handleOpened(moving.take()!, packet: opened, source: source, now: now)
                }
            case .failure:
                count(.openFailed)
            }
            drain(b, now: now)
        case .handshakeResponse, .cookieReply, .none:
            count(.unexpectedMessage)
        }
    }

    /// An inner packet from the data centre: routed to the branch whose allowed prefixes hold its
    /// destination (longest prefix wins). Pass the packet's last reference (`consume`) to let the
    /// branch's engine build the datagram in place.
    public func handleInnerPacket(_ packet: consuming ByteBuffer, now: Instant) {
        guard let header = InnerPacketHeader.parse(packet) else {
            count(.unparseableInner)
            return
        }
        guard let b = route(header.destination) else {
            count(.noRoute)
            return
        }
        var moving: ByteBuffer? = consume packet  // borrowed engine, moved packet: see `handleDatagram`
        Unmanaged.passUnretained(branches[b].engine)._withUnsafeGuaranteedRef {
            $0.handleInnerPacket(moving.take()!, header: header, now: now)
        }
        drain(b, now: now)
    }

    /// The branch whose session has local index `index`.
    @inline(__always)
    func branch(forIndex index: UInt32) -> Int? {
        if lastIndexLookup.branch >= 0 && lastIndexLookup.index == index { return lastIndexLookup.branch }
        guard let b = branchByIndex[index] else { return nil }
        lastIndexLookup = (index, b)
        return b
    }

    // MARK: Outputs

    @inlinable public func pollTransmit() -> HubTransmit? { transmits.popFirst() }
    @inlinable public func pollDelivery() -> Delivery? { deliveries.popFirst() }
    @inlinable public func pollEvent() -> (branch: String, event: EngineEvent)? { events.popFirst() }

    // MARK: Routing

    /// The branch whose allowed prefixes hold `destination`, longest prefix first.
    @inline(__always)
    func route(_ destination: IPAddress) -> Int? {
        routes.lookup(destination)
    }

    /// Moves a branch engine's outputs into the endpoint's queues, applying cryptokey routing to
    /// what the branch sent.
    func drain(_ b: Int, now: Instant) {
        // The engine is borrowed, not retained, for the drain: nothing a drain does adds or
        // removes a branch, so it outlives the call (a retain and a release per drain were ~0.5 %
        // of a simulation).
        Unmanaged.passUnretained(branches[b].engine)._withUnsafeGuaranteedRef { drain(b, engine: $0, now: now) }
    }

    private func drain(_ b: Int, engine: TunnelEngine, now: Instant) {
        while let t = engine.pollTransmit() {
            let (listener, destination, dscp) = (branches[b].listeners[Int(t.linkID)], t.destination, t.dscp)
            // `consume`: the datagram moves on (a copy was a retain and a release per datagram).
            transmits.append(
                HubTransmit(listener: listener, destination: destination, datagram: (consume t).datagram, dscp: dscp)
            )
        }
        while let event = engine.pollEvent() {
            if case .session(.sessionRetired(let index)) = event, branchByIndex[index] == b {
                branchByIndex[index] = nil
            }
            events.append((branches[b].configuration.name, event))
        }
        // Made only when a packet is forwarded (an empty array was released on every drain).
        var forwarded: [(Int, ByteBuffer, InnerPacketHeader)]?
        while let delivery = engine.pollDelivery() {
            guard let header = InnerPacketHeader.parse(delivery.packet) else {
                count(.unparseableInner)
                continue
            }
            // Cryptokey routing: a branch may only send from its own prefixes.
            guard sourcePrefixes[b].contains(where: { $0.contains(header.source) }) else {
                count(.spoofedSource)
                continue
            }
            if let target = route(header.destination), target != b {
                let from = branches[b].configuration.name
                let to = branches[target].configuration.name
                guard forwardingRules.contains(where: { $0.allows(from: from, to: to, header) }) else {
                    count(.forwardingDenied)
                    continue
                }
                forwarded = forwarded ?? []
                forwarded!.append((target, delivery.packet, header))
            } else {
                deliveries.append(consume delivery)
            }
        }
        // Most drains forward nothing and return here: the early return spares the release of the
        // optional at the end (measured: ~2 M instructions of a 1.3 G simulation run).
        guard let forwarded else {
            branchDrained(b)
            return
        }
        for (target, packet, header) in forwarded {
            branches[target].engine.handleInnerPacket(packet, header: header, now: now)
            drain(target, now: now)
        }
        branchDrained(b)
    }
}
