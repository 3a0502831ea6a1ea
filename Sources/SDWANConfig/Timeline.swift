import SDWANCore
import SDWANLinkModel

/// A scenario's timeline: what happens to which link, at offsets from the start of the run — cut,
/// restore, flap, degrade for a while, rebind the source port (a NAT rebinding).
///
/// One schema for every driver: the WAN emulator (`sdwan wanem --timeline FILE`) applies it in
/// real time, and the simulator's scenario files embed the very same `timeline:` block. Decoded
/// with the positioned loader, so every error names file, line, column and field:
///
/// ```yaml
/// timeline:
///   - { at: 5s, link: lte, action: cut }          # every packet offered is dropped (cause `cut`)
///   - { at: 8s, link: lte, action: restore }
///   - at: 10s
///     link: mpls
///     action: flap                                  # `count` × (cut, then restore after `down`)
///     period: 2s
///     down: 500ms                                   # default: half the period
///     count: 3
///   - at: 20s
///     link: broadband
///     direction: up                                 # up | down | both (default)
///     action: degrade                               # replace these fields for `duration`
///     duration: 10s                                 # omit: for the rest of the run
///     loss: { ratio: 5%, burst: 3 }                 # model fields as in topologies/README.md:
///     delay: 100ms                                  #   loss, delay, jitter, rate, queue,
///     rate: 2mbit                                   #   mtu, duplicate
///   - { at: 30s, link: lte, action: rebind }        # new source port towards the hub
/// ```
///
/// `branch:` names the link's branch when the topology has several (`validate(against:)` checks
/// every reference).
public struct Timeline: Hashable, Sendable {
    /// The events in file order.
    public var events: [TimelineEvent]

    public init(events: [TimelineEvent]) { self.events = events }

    /// The empty timeline.
    public static let empty = Timeline(events: [])

    /// The primitive steps the events expand to (a flap into its cuts and restores, a degrade into
    /// its start and end), sorted by offset; ties keep file order.
    public var steps: [TimelineStep] {
        var steps: [(TimelineStep, Int)] = []
        for event in events {
            for step in event.expanded() { steps.append((step, steps.count)) }
        }
        steps.sort { $0.0.at != $1.0.at ? $0.0.at < $1.0.at : $0.1 < $1.1 }
        return steps.map(\.0)
    }
}

/// Which direction of a link an event acts on.
public enum TimelineDirection: String, CaseIterable, Hashable, Sendable {
    /// Edge → hub.
    case up
    /// Hub → edge.
    case down
    /// Both directions.
    case both
}

/// Where an event was written, so a later check (an unknown link) can name file, line and field.
public struct ConfigPosition: Hashable, Sendable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var field: String

    public init(file: String, line: Int?, column: Int?, field: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
    }

    init(_ value: ConfigValue) {
        self.init(file: value.file, line: value.line, column: value.column, field: value.path.description)
    }

    /// An error at this position.
    public func error(_ problem: String, expected: String? = nil) -> ConfigError {
        ConfigError(file: file, line: line, column: column, field: field, problem: problem, expected: expected)
    }
}

/// Model fields a degrade replaces while it lasts; `nil` fields keep their values.
public struct LinkDegrade: Hashable, Sendable {
    public var loss: LossModel?
    public var baseDelay: TimeSpan?
    public var jitter: JitterDistribution?
    /// `.some(nil)`: unlimited for the duration.
    public var rate: RateLimit??
    public var mtu: Int?
    public var duplication: Double?

    public init(
        loss: LossModel? = nil,
        baseDelay: TimeSpan? = nil,
        jitter: JitterDistribution? = nil,
        rate: RateLimit?? = nil,
        mtu: Int? = nil,
        duplication: Double? = nil
    ) {
        self.loss = loss
        self.baseDelay = baseDelay
        self.jitter = jitter
        self.rate = rate
        self.mtu = mtu
        self.duplication = duplication
    }
}

/// What an event does.
public enum TimelineAction: Hashable, Sendable {
    /// Drop every packet offered (cause `cut`) until a restore.
    case cut
    /// End a cut.
    case restore
    /// `count` cycles of `period`: cut at the start of each, restore `down` later.
    case flap(period: TimeSpan, down: TimeSpan, count: Int)
    /// Replace some model fields for `duration` (`nil`: the rest of the run), then put back the
    /// topology's values.
    case degrade(LinkDegrade, duration: TimeSpan?)
    /// Replace the hub-facing socket by one on a new source port (the WAN emulator only; the
    /// simulator moves the endpoint's port).
    case rebind
}

/// One entry of a timeline.
public struct TimelineEvent: Hashable, Sendable {
    /// Offset from the start of the run.
    public var at: TimeSpan
    /// The link's branch, when given.
    public var branch: String?
    /// The link's name within its branch.
    public var link: String
    public var direction: TimelineDirection
    public var action: TimelineAction
    /// Where the event was written.
    public var position: ConfigPosition

    public init(
        at: TimeSpan,
        branch: String? = nil,
        link: String,
        direction: TimelineDirection = .both,
        action: TimelineAction,
        position: ConfigPosition = ConfigPosition(file: "<code>", line: nil, column: nil, field: "")
    ) {
        self.at = at
        self.branch = branch
        self.link = link
        self.direction = direction
        self.action = action
        self.position = position
    }

    /// The primitive steps of this event.
    public func expanded() -> [TimelineStep] {
        func step(_ offset: TimeSpan, _ action: TimelineStep.Action) -> TimelineStep {
            TimelineStep(at: offset, branch: branch, link: link, direction: direction, action: action)
        }
        switch action {
        case .cut: return [step(at, .cut)]
        case .restore: return [step(at, .restore)]
        case .rebind: return [step(at, .rebind)]
        case .flap(let period, let down, let count):
            return (0..<count).flatMap { k in
                [step(at + period * Int64(k), .cut), step(at + period * Int64(k) + down, .restore)]
            }
        case .degrade(let degrade, let duration):
            var steps = [step(at, .degrade(degrade))]
            if let duration { steps.append(step(at + duration, .endDegrade(degrade))) }
            return steps
        }
    }
}

/// A primitive timeline step, as a driver applies it.
public struct TimelineStep: Hashable, Sendable {
    /// What to do to the link's model(s).
    public enum Action: Hashable, Sendable {
        case cut
        case restore
        /// Apply these fields.
        case degrade(LinkDegrade)
        /// Put back the topology's values of the fields this degrade set.
        case endDegrade(LinkDegrade)
        case rebind
    }

    public var at: TimeSpan
    public var branch: String?
    public var link: String
    public var direction: TimelineDirection
    public var action: Action
}

// MARK: Decoding

extension Timeline {
    /// The fields an event may carry.
    static let eventFields =
        ["at", "link", "branch", "direction", "action", "period", "down", "count", "duration"] + degradeFields
    /// The model fields a degrade may replace (decoded as in topologies).
    static let degradeFields = ["loss", "delay", "jitter", "rate", "queue", "mtu", "duplicate"]

    /// Reads the timeline in the file at `path`: a list of events, or a mapping (a scenario file)
    /// with a `timeline:` list among its fields.
    public static func load(path: String) throws(ConfigError) -> Timeline {
        try decode(document: ConfigDocument.load(path: path))
    }

    /// Parses timeline text (a list, or a mapping with `timeline:`); `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> Timeline {
        try decode(document: ConfigDocument.parse(text, file: file))
    }

    /// The timeline of a whole document: its root list, or its root mapping's `timeline:` field.
    /// Other fields of a mapping belong to the scenario format and are not checked here.
    public static func decode(document root: ConfigValue) throws(ConfigError) -> Timeline {
        if !root.isMapping { return try decode(root) }
        guard case .mapping(let mapping) = root.node else { return .empty }
        let keys = Array(mapping.keys.compactMap(\.string))
        let m = try root.mapping(allowing: keys)
        return try decode(m.required("timeline", expected: "a list of events (at, link, action)"))
    }

    /// Decodes a `timeline:` list.
    public static func decode(_ value: ConfigValue) throws(ConfigError) -> Timeline {
        Timeline(events: try value.sequence().map { (item) throws(ConfigError) in try decodeEvent(item) })
    }

    static func decodeEvent(_ value: ConfigValue) throws(ConfigError) -> TimelineEvent {
        let m = try value.mapping(allowing: eventFields)
        let at = try DirectionDecoding.nonNegativeDuration(
            m.required("at", expected: "the offset from the start of the run, e.g. 5s")
        )
        let link = try m.required("link", expected: "the link's name").name()
        let branch = try m["branch"]?.name()
        let direction = try m["direction"]?.choice(TimelineDirection.allCases.map { ($0.rawValue, $0) }) ?? .both
        let actions: [(String, String)] = ["cut", "restore", "flap", "degrade", "rebind"].map { ($0, $0) }
        let name = try m.required("action", expected: "one of: cut, restore, flap, degrade, rebind").choice(actions)

        let owners: [String: String] = [
            "period": "flap", "down": "flap", "count": "flap", "duration": "degrade",
        ]
        for key in m.keys {
            let owner = owners[key] ?? (degradeFields.contains(key) ? "degrade" : nil)
            if let owner, owner != name {
                throw m[key]!.error("`\(key)` applies only to `action: \(owner)`", expected: "no `\(key)` on a \(name)")
            }
        }
        if name == "rebind", let d = m["direction"] {
            throw d.error("a rebind has no direction", expected: "no `direction:` (the socket serves both)")
        }
        let action: TimelineAction
        switch name {
        case "cut": action = .cut
        case "restore": action = .restore
        case "rebind": action = .rebind
        case "flap": action = try decodeFlap(m)
        default: action = try decodeDegrade(m)
        }
        return TimelineEvent(
            at: at,
            branch: branch,
            link: link,
            direction: direction,
            action: action,
            position: ConfigPosition(value)
        )
    }

    static func decodeFlap(_ m: ConfigMapping) throws(ConfigError) -> TimelineAction {
        let periodValue = try m.required("period", expected: "one down-and-up cycle, e.g. 2s")
        let period = try DirectionDecoding.positiveDuration(periodValue)
        let count = try m.required("count", expected: "how many cycles, e.g. 3").int(in: 1...100_000)
        var down = TimeSpan(nanoseconds: period.nanoseconds / 2)
        if let d = m["down"] {
            down = try DirectionDecoding.positiveDuration(d)
            guard down < period else {
                throw d.error("down for the whole period never restores", expected: "a duration below the period")
            }
        }
        return .flap(period: period, down: down, count: count)
    }

    static func decodeDegrade(_ m: ConfigMapping) throws(ConfigError) -> TimelineAction {
        guard degradeFields.contains(where: { m[$0] != nil }) else {
            throw m.value.error(
                "a degrade changes nothing",
                expected: "at least one of: \(degradeFields.joined(separator: ", "))"
            )
        }
        let settings = try DirectionDecoding.settings(from: m)
        let parameters = settings.parameters
        var degrade = LinkDegrade()
        degrade.loss = settings.loss
        degrade.baseDelay = settings.delay
        degrade.jitter = settings.jitter
        degrade.mtu = settings.mtu
        degrade.duplication = settings.duplicate
        if settings.rate != nil { degrade.rate = .some(parameters.rate) }
        if settings.queue != nil && settings.rate == nil {
            throw m["queue"]!.error("a queue needs a rate", expected: "a `rate:` in the same degrade")
        }
        let duration = try m["duration"].map { (d) throws(ConfigError) in try DirectionDecoding.positiveDuration(d) }
        return .degrade(degrade, duration: duration)
    }

    /// Checks that every event names a link of `topology` (and its branch, when the topology has
    /// several); the error points at the event.
    public func validate(against topology: Topology) throws(ConfigError) {
        for event in events {
            _ = try event.resolve(in: topology)
        }
    }
}

extension TimelineEvent {
    /// The branch and link this event names in `topology`, or an error at the event.
    public func resolve(in topology: Topology) throws(ConfigError) -> (branch: TopologyBranch, link: TopologyLink) {
        let candidates: [TopologyBranch]
        if let branch {
            guard let found = topology.branch(named: branch) else {
                throw position.error(
                    "no branch `\(branch)` in topology `\(topology.name)`",
                    expected: "one of: \(topology.branches.map(\.name).joined(separator: ", "))"
                )
            }
            candidates = [found]
        } else {
            candidates = topology.branches
        }
        let matches = candidates.filter { $0.link(named: link) != nil }
        guard let first = matches.first, let found = first.link(named: link) else {
            let names = candidates.flatMap { $0.links.map(\.name) }
            throw position.error("no link `\(link)`", expected: "one of: \(names.joined(separator: ", "))")
        }
        guard matches.count == 1 else {
            throw position.error(
                "link `\(link)` exists in several branches",
                expected: "a `branch:` among \(matches.map(\.name).joined(separator: ", "))"
            )
        }
        return (first, found)
    }
}
