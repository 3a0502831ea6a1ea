import SDWANCore

/// The `classes:` block: traffic classes, their match rules and their FEC policies, in the engine's
/// terms. One schema for every file that carries it — simulator scenarios today, the live node
/// configuration later — decoded here with the positioned loader.
///
/// ```yaml
/// classes:
///   - name: voice
///     match: { dscp: [ef] }                   # dscp, protocol, ports, sourcePorts, destinationPorts,
///                                             # source, destination (prefixes); all set fields ANDed
///     sla: { rtt: 300ms, jitter: 30ms, rEnter: 80, rStay: 70 }   # also `loss: 1%`
///     mode: best                              # best | duplicate | balance
///     links: [mpls, broadband]                # allowed links (default: all)
///     metered: true                           # may use metered links (default true)
///     priority: realtime                      # realtime | normal | bulk
///     dscp: ef                                # outer DSCP (default: copy the inner packet's)
///     fec: { k: 4, stride: 10, budget: 20ms } # or `fec: off` (the default)
///   - name: pos
///     match: { protocol: [tcp], destinationPorts: [443], destination: [10.200.0.0/16] }
///     mode: duplicate
///     copies: 2
///   - name: default                           # no `match:` — the default class (last)
/// ```
///
/// Rules are tried in class order; the first class whose `match` fits wins; the class without a
/// `match` catches the rest (when every class has one, the built-in `default` class is added).
public struct ClassTable: Equatable, Sendable {
    public var classes: [TrafficClass]
    public var rules: [ClassRule]
    public var defaultClassIndex: Int
    /// FEC per class, same indices as `classes`.
    public var fec: [ClassFECPolicy?]

    public init(classes: [TrafficClass], rules: [ClassRule], defaultClassIndex: Int, fec: [ClassFECPolicy?]) {
        precondition(classes.count == fec.count, "one FEC slot per class")
        self.classes = classes
        self.rules = rules
        self.defaultClassIndex = defaultClassIndex
        self.fec = fec
    }

    /// The table that ships (`DefaultClasses`), without FEC.
    public static let defaults = ClassTable(
        classes: DefaultClasses.classes,
        rules: DefaultClasses.rules,
        defaultClassIndex: DefaultClasses.classes.count - 1,
        fec: DefaultClasses.classes.map { _ in nil }
    )

    /// The index of the class named `name`.
    public func index(of name: String) -> Int? { classes.firstIndex { $0.name == name } }

    /// An engine configuration over `links` with this table.
    public func engineConfiguration(links: [EngineLinkConfiguration]) -> EngineConfiguration {
        EngineConfiguration(
            links: links,
            classes: classes,
            classRules: rules,
            defaultClassIndex: defaultClassIndex,
            fec: fec
        )
    }
}
