import SDWANCore

/// The `monitor:` block: path-monitor tunables shared by every link of a node (scenarios today,
/// node configs later). Omitted fields keep the defaults of docs/path-selection.md.
///
/// ```yaml
/// monitor:
///   interval: 100ms          # probe interval on an active link (20ms … 5s)
///   standbyInterval: 1s      # on a standby (metered) link
///   missed: 3                # M: a direction is down after max(M × interval, base + N × SRTT) of silence
///   silenceBase: 100ms       # base
///   rttMultiplier: 4         # N
///   recoveryRun: 20          # good evaluations before `up` again
/// ```
public enum MonitorSettings {
    static let fields = ["interval", "standbyInterval", "missed", "silenceBase", "rttMultiplier", "recoveryRun"]

    /// Applies a `monitor:` block to `base`.
    public static func decode(
        _ value: ConfigValue,
        base: PathMonitorConfiguration = PathMonitorConfiguration()
    ) throws(ConfigError) -> PathMonitorConfiguration {
        let m = try value.mapping(allowing: fields)
        var c = base
        let range = ProbeScheduler.Configuration.allowedIntervals
        func interval(_ key: String, _ current: TimeSpan) throws(ConfigError) -> TimeSpan {
            guard let v = m[key] else { return current }
            let d = try v.duration()
            guard range.contains(d) else {
                throw v.error("\(d) is outside the allowed probe intervals", expected: "20ms … 5s")
            }
            return d
        }
        c.probes = ProbeScheduler.Configuration(
            interval: try interval("interval", c.probes.interval),
            standbyInterval: try interval("standbyInterval", c.probes.standbyInterval),
            passivePackets: c.probes.passivePackets
        )
        if let v = m["missed"] { c.missedIntervals = Int64(try v.int(in: 1...100)) }
        if let v = m["silenceBase"] { c.silenceBase = try v.duration() }
        if let v = m["rttMultiplier"] { c.silenceRTTMultiplier = Int64(try v.int(in: 0...100)) }
        if let v = m["recoveryRun"] {
            c.stateMachine = LinkStateMachine.Configuration(
                recoveryRun: try v.int(in: 1...10_000),
                maxChangesPerMinute: c.stateMachine.maxChangesPerMinute
            )
        }
        return c
    }

    /// The silence a direction needs before it is declared down: max(M × interval, base + N × SRTT)
    /// (docs/path-selection.md, "Liveness").
    public static func detectionWindow(_ c: PathMonitorConfiguration, srtt: TimeSpan) -> TimeSpan {
        max(c.probes.interval * c.missedIntervals, c.silenceBase + srtt * c.silenceRTTMultiplier)
    }
}
