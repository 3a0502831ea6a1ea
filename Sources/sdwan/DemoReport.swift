import Foundation

/// The summary `sdwan demo` prints at the end (docs/demo.md shows a real one).
enum DemoReport {
    static func text(_ s: DemoSummary) -> String {
        var lines = [
            "", "== summary (\(Int(s.durationSeconds)) s of traffic; ground truth from the emulator's counters)",
        ]
        lines.append("timeline: " + s.timeline.joined(separator: "; "))
        var rows = [
            [
                "link", "up offered", "up lost", "up cut", "down offered", "down lost", "down cut", "loss (no cuts)",
                "state",
            ]
        ]
        for l in s.links {
            rows.append([
                l.name, "\(l.upOffered)", "\(l.upLost)", "\(l.upCut)", "\(l.downOffered)", "\(l.downLost)",
                "\(l.downCut)", pct(l.lossRatio), l.finalState,
            ])
        }
        lines += [""] + DemoTable.align(rows)
        rows = [
            [
                "class", "sent", "delivered", "residual loss", "longest gap", "delay p50/p99", "fec recovered",
                "overhead", "links at end",
            ]
        ]
        for c in s.classes {
            rows.append([
                c.name, "\(c.sent)", "\(c.delivered)", pct(c.residualLossRatio), ms(c.longestGapMs),
                "\(ms(c.oneWayDelayP50Ms))/\(ms(c.oneWayDelayP99Ms))", "\(c.recoveredByFEC)",
                c.overheadRatio.map { pct($0) } ?? "-", c.links.isEmpty ? "-" : c.links,
            ])
        }
        lines += [""] + DemoTable.align(rows)
        lines.append("(transactional: sent/delivered count transactions, delay is half the request–response time)")
        lines.append("")
        lines.append(
            "failover: MPLS cut at \(String(format: "%.2f", s.cutAtSeconds)) s with voice on "
                + "\(s.voiceLinkAtCut ?? "?"); detected after \(ms(s.detectedAfterMs)) (monitor window "
                + "\(ms(s.detectionWindowMs)) at SRTT \(ms(s.mplsRTTAtCutMs)), /status polled every 100 ms); voice off MPLS after \(ms(s.steeredAfterMs))"
        )
        if let voice = s.classes.first(where: { $0.name == "voice" }),
            let bare = s.classes.first(where: { $0.name == "voice-bare" })
        {
            lines.append(
                "voice gap at the blackout: \(ms(voice.blackoutGapMs)) (bound \(ms(s.failoverBoundMs))); "
                    + "unprotected copy \(ms(bare.blackoutGapMs))"
            )
            lines.append(
                "without protection: the same calls on a class without FEC lost \(pct(bare.residualLossRatio)) "
                    + "(outside the failover window \(pct(bare.residualLossOutsideFailover ?? 0))); with FEC "
                    + "\(pct(voice.residualLossRatio)) (\(pct(voice.residualLossOutsideFailover ?? 0))), "
                    + "\(voice.recoveredByFEC) losses repaired for \(pct(voice.overheadRatio ?? 0)) extra packets"
            )
            let early = voice.rebuiltBeforeOriginal
            lines.append(
                "FEC: of the \(voice.recoveredByFEC + early) rebuilt, \(early) were rebuilt before their late original "
                    + "arrived (the parity took a faster link); \(voice.recoveredByFEC) repaired a loss"
            )
        }
        lines.append(
            "POS: \(s.posCompleted) of \(s.posTransactions) transactions completed; bulk goodput "
                + String(format: "%.2f Mbit/s, %d back-offs", s.bulkGoodputMbps, s.bulkBackoffs)
        )
        lines.append("")
        lines.append("expectations:")
        for e in s.expectations {
            let value = e.value.map { String(format: "%.4g", $0) } ?? "none"
            let bound = [
                e.min.map { "≥ \(String(format: "%.4g", $0))" }, e.max.map { "≤ \(String(format: "%.4g", $0))" },
            ]
            .compactMap { $0 }.joined(separator: ", ")
            lines.append("  \(e.passed ? "PASS" : "FAIL")  \(e.name): \(value) (\(bound)) — \(e.why)")
        }
        lines.append(s.passed ? "demo passed" : "demo FAILED: an expectation was missed")
        return lines.joined(separator: "\n")
    }

    static func ms(_ v: Double?) -> String { v.map { String(format: "%.0f ms", $0) } ?? "-" }
    static func pct(_ r: Double) -> String { String(format: "%.2f %%", r * 100) }
}
