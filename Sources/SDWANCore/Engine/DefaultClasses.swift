/// The class table that ships (docs/path-selection.md, "Default classes"), with SLAs from
/// ../shared/REFERENCE.md. Operators override it with a `classes:` block.
///
/// | class | match | SLA | mode | priority |
/// |---|---|---|---|---|
/// | voice | EF (46) | R ≥ 80 to enter, < 70 to leave; RTT ≤ 300 ms (G.114: 150 ms one way); jitter ≤ 30 ms | best | realtime |
/// | video | AF41/42/43 | loss ≤ 1 %, RTT ≤ 300 ms, jitter ≤ 30 ms | best | normal |
/// | transactional | AF21/22/23 | loss ≤ 2 %, RTT ≤ 400 ms | duplicate on 2 links | normal |
/// | bulk | AF11/12/13, CS1 | loss ≤ 5 %; never on metered links | balance | bulk |
/// | default | everything else | loss ≤ 5 % | best | normal |
public enum DefaultClasses {
    public static let voice = TrafficClass(
        name: "voice",
        sla: ServiceLevel(
            maxRTT: .milliseconds(300),
            maxJitter: .milliseconds(30),
            minRFactorToEnter: 80,
            minRFactorToStay: 70
        ),
        mode: .best,
        priority: .realtime
    )
    public static let video = TrafficClass(
        name: "video",
        sla: ServiceLevel(maxLossRatio: 0.01, maxRTT: .milliseconds(300), maxJitter: .milliseconds(30)),
        mode: .best,
        priority: .normal
    )
    public static let transactional = TrafficClass(
        name: "transactional",
        sla: ServiceLevel(maxLossRatio: 0.02, maxRTT: .milliseconds(400)),
        mode: .duplicate(copies: 2),
        priority: .normal
    )
    public static let bulk = TrafficClass(
        name: "bulk",
        sla: ServiceLevel(maxLossRatio: 0.05),
        meteredAllowed: false,
        mode: .balance,
        priority: .bulk
    )
    public static let standard = TrafficClass(
        name: "default",
        sla: ServiceLevel(maxLossRatio: 0.05),
        mode: .best,
        priority: .normal
    )

    /// The classes in table order; the last is the default class.
    public static let classes: [TrafficClass] = [voice, video, transactional, bulk, standard]

    /// DSCP rules for the table above.
    public static let rules: [ClassRule] = [
        ClassRule(classIndex: 0, dscp: [DSCP.ef]),
        ClassRule(classIndex: 1, dscp: [DSCP.af41, DSCP.af42, DSCP.af43]),
        ClassRule(classIndex: 2, dscp: [DSCP.af21, DSCP.af22, DSCP.af23]),
        ClassRule(classIndex: 3, dscp: [DSCP.af11, DSCP.af12, DSCP.af13, DSCP.cs1]),
    ]

    public static var classifier: Classifier { Classifier(rules: rules, defaultClassIndex: classes.count - 1) }
}
