import SDWANConfig
import SDWANCore

extension Scenario {
    /// The same scenario with its protection switched off — no FEC, no duplication or balancing
    /// (every class `best`), and a sluggish monitor (M = 10 missed intervals) — for the mutation
    /// check: a scenario whose expectations still hold without its protection tests nothing.
    public func withProtectionOff() -> Scenario {
        var s = self
        s.classes.fec = s.classes.fec.map { _ in nil }
        for i in s.classes.classes.indices { s.classes.classes[i].mode = .best }
        s.monitor.missedIntervals = 10
        return s
    }
}
