/// The readable summary `sdwan simulate` prints (the JSON file is the stable interface).
public enum SummaryText {
    public static func render(_ s: SimulationSummary) -> String {
        var out = "scenario \(s.scenario) on \(s.topology), seed \(s.seed): \(f(s.simulatedSeconds, 1)) s simulated "
        out += "in \(f(s.wallSeconds, 2)) s wall, \(s.simulatedPackets) packets "
        out += "(\(f(s.simulatedPacketsPerWallSecond / 1e3, 0)) k/s)\(s.nullCipher ? ", null cipher" : "")\n\n"
        out += "links              raw loss  up/down loss (monitor)      RTT p50/p99  jitter  changes  blackouts\n"
        for l in s.links {
            let loss =
                "\(pct(l.up.lossRatio))/\(pct(l.down.lossRatio)) (\(pct(l.up.monitorLossRatio))/\(pct(l.down.monitorLossRatio)))"
            let rtt = "\(f(l.rttMs.p50, 1))/\(f(l.rttMs.p99, 1)) ms"
            var blackouts = l.blackouts.map { b in
                "at \(f(b.startedAtSeconds, 1)) s: detected \(f(b.detectedAfterMs, 0)) ms, steered \(f(b.steeredAfterMs, 0)) ms"
            }.joined(separator: "; ")
            if blackouts.isEmpty { blackouts = "-" }
            out += pad("\(l.edge)/\(l.name)", 18) + " " + pad(pct(l.rawLossRatio), 8) + "  " + pad(loss, 26) + "  "
            out += pad(rtt, 12) + " " + pad(f(l.jitterMs, 1), 6) + "  " + pad("\(l.stateChanges.count)", 7) + "  "
            out += blackouts + "\n"
        }
        out +=
            "\nclasses                  sent  delivered  residual  FEC rec.  dup drop  delay p50/p99/max ms   gap ms  overhead  MOS\n"
        for c in s.classes {
            let delay = "\(f(c.oneWayDelayMs.p50, 1))/\(f(c.oneWayDelayMs.p99, 1))/\(f(c.oneWayDelayMs.max, 1))"
            out +=
                pad("\(c.edge)/\(c.name) \(c.direction)", 22) + " " + lpad("\(c.sent)", 6) + " "
                + lpad("\(c.delivered)", 10)
            out += "  " + lpad(pct(c.residualLossRatio), 8) + "  " + lpad("\(c.recoveredByFEC)", 8) + "  "
            out +=
                lpad("\(c.duplicatesDropped)", 8) + "  " + pad(delay, 21) + " " + lpad(f(c.longestGapMs, 0), 6) + "  "
            out += lpad(f(c.overheadRatio, 2), 8) + "  " + (c.mos.map { f($0, 2) } ?? "-") + "\n"
        }
        if !s.expectations.isEmpty {
            out += "\nexpectations\n"
            for e in s.expectations {
                var bound = ""
                if let m = e.min { bound += "≥ \(g(m))" }
                if let m = e.max { bound += (bound.isEmpty ? "" : ", ") + "≤ \(g(m))" }
                out +=
                    "  \(e.passed ? "PASS" : "FAIL")  \(e.name): \(e.scope) \(e.metric) = \(e.worst.map(g) ?? "none") (\(bound))\n"
            }
            out += s.passed ? "all expectations met\n" : "EXPECTATIONS NOT MET\n"
        }
        return out
    }

    static func f(_ x: Double?, _ digits: Int) -> String {
        guard let x else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (x * scale).rounded() / scale
        return digits == 0 ? "\(Int(r))" : "\(r)"
    }

    static func g(_ x: Double) -> String { abs(x) < 0.01 && x != 0 ? "\(f(x * 100, 4)) %" : f(x, 3) }
    static func pct(_ x: Double?) -> String { x.map { f($0 * 100, 2) + "%" } ?? "-" }
    static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }
    static func lpad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : String(repeating: " ", count: n - s.count) + s
    }
}
