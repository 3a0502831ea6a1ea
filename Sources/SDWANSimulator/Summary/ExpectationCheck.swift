import SDWANConfig

extension ScenarioRun {
    /// Checks one expectation against the summary's entries: every matching entry must meet the
    /// bound (computed bounds use the entry's own `sent` as N); no matching entry fails.
    func check(_ expectation: Expectation, classes: [ClassSummary], links: [LinkSummary]) -> ExpectationResult {
        var values: [(value: Double?, samples: UInt64)] = []
        var scope: String
        switch expectation.scope {
        case .classes(let name):
            scope = "class \(name)"
            for entry in classes where entry.name == name {
                if let edge = expectation.edge, entry.edge != edge { continue }
                if let d = expectation.direction, entry.direction != d.rawValue { continue }
                values.append((Self.metric(expectation.metric, of: entry), entry.sent))
            }
        case .links(let name):
            scope = "link \(name)"
            for link in links where link.name == name {
                if let edge = expectation.edge, link.edge != edge { continue }
                switch expectation.metric {
                case "detectedAfterMs": values += link.blackouts.map { ($0.detectedAfterMs, 0) }
                case "steeredAfterMs": values += link.blackouts.map { ($0.steeredAfterMs, 0) }
                case "stateChanges": values.append((Double(link.stateChanges.count), 0))
                default: values.append((link.rawLossRatio, link.up.offered + link.down.offered))
                }
            }
        }
        if let edge = expectation.edge { scope += " at \(edge)" }
        if let d = expectation.direction { scope += " \(d.rawValue)" }
        var passed = !values.isEmpty
        var worst: Double?
        var worstMargin = Double.infinity
        var maxBound: Double?
        var minBound: Double?
        for (value, samples) in values {
            let high = expectation.max?.value(samples: samples)
            let low = expectation.min?.value(samples: samples)
            maxBound = high.map { Swift.max(maxBound ?? $0, $0) }
            minBound = low.map { Swift.min(minBound ?? $0, $0) }
            guard let value else {
                passed = false
                worst = nil
                worstMargin = -.infinity
                continue
            }
            var margin = Double.infinity
            if let high { margin = Swift.min(margin, high - value) }
            if let low { margin = Swift.min(margin, value - low) }
            if margin < 0 { passed = false }
            if margin < worstMargin {
                worstMargin = margin
                worst = value
            }
        }
        return ExpectationResult(
            name: expectation.name,
            metric: expectation.metric,
            scope: scope,
            max: maxBound,
            min: minBound,
            worst: worst,
            entries: values.count,
            passed: passed,
            why: expectation.why
        )
    }

    static func metric(_ name: String, of entry: ClassSummary) -> Double? {
        switch name {
        case "residualLossRatio": entry.residualLossRatio
        case "deliveryRatio": entry.sent == 0 ? nil : Double(entry.delivered) / Double(entry.sent)
        case "longestGapMs": entry.longestGapMs
        case "oneWayDelayP50Ms": entry.oneWayDelayMs.p50
        case "oneWayDelayP99Ms": entry.oneWayDelayMs.p99
        case "oneWayDelayMaxMs": entry.oneWayDelayMs.max
        case "rFactor": entry.rFactor
        case "mos": entry.mos
        case "goodputMbps": entry.goodputMbps
        case "overheadRatio": entry.overheadRatio
        case "pathChangesPerMinute": entry.pathChangesPerMinute
        case "recoveredByFEC": Double(entry.recoveredByFEC)
        case "rebuiltBeforeOriginal": Double(entry.rebuiltBeforeOriginal)
        case "duplicatesDropped": Double(entry.duplicatesDropped)
        default: nil
        }
    }
}
