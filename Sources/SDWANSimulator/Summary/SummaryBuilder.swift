import SDWANConfig
import SDWANCore
import SDWANLinkModel

extension ScenarioRun {
    /// The summary of the run so far; `wallSeconds` is what `run()` returned.
    public func summary(wallSeconds: Double, nullCipher: Bool) -> SimulationSummary {
        let simulated = network.simulation.now.nanoseconds
        let packets = network.datagramsCarried
        let classes = entries.map(classSummary)
        let links = linkSummaries()
        let results = scenario.expectations.map { check($0, classes: classes, links: links) }
        return SimulationSummary(
            scenario: scenario.name,
            topology: scenario.topology.name,
            seed: seed,
            simulatedSeconds: Double(simulated) / 1e9,
            wallSeconds: wallSeconds,
            simulatedPacketsPerWallSecond: wallSeconds > 0 ? Double(packets) / wallSeconds : 0,
            simulatedPackets: packets,
            nullCipher: nullCipher,
            links: links,
            classes: classes,
            expectations: results,
            passed: results.allSatisfy(\.passed),
            series: seriesSummary()
        )
    }

    static func ms(_ span: TimeSpan) -> Double { Double(span.nanoseconds) / 1e6 }
    static func seconds(_ instant: Instant) -> Double { Double(instant.nanoseconds) / 1e9 }

    func classSummary(_ entry: ClassStatistics) -> ClassSummary {
        let b = entry.branch
        let c = entry.classIndex
        let branchName = scenario.topology.branches[b].name
        let edgeCounters = network.edges[b].counters(forClass: c)
        var hubCounters = retiredHubCounters[b][c]
        if let engine = network.hub.engine(forBranch: branchName) { hubCounters.add(engine.counters(forClass: c)) }
        let (sender, receiver) = entry.direction == .up ? (edgeCounters, hubCounters) : (hubCounters, edgeCounters)
        var sent: UInt64 = 0
        var delivered: UInt64 = 0
        var runs: UInt64 = 0
        var longestGap = TimeSpan.zero
        var activeNanoseconds: Int64 = 0
        var isVoice = false
        for flow in entry.flows {
            sent += UInt64(flow.sent)
            delivered += flow.delivered
            runs += flow.lossRuns().runs
            longestGap = max(longestGap, flow.longestGap)
            activeNanoseconds = max(activeNanoseconds, (flow.stop - flow.start).nanoseconds)
            isVoice = isVoice || flow.kind == "voice"
        }
        let residual = sent == 0 ? 0 : 1 - Double(delivered) / Double(sent)
        let p50 = entry.delays.quantile(0.5)
        let p99 = entry.delays.quantile(0.99)
        var rFactor: Double?
        var mos: Double?
        if isVoice, let p50, let p99 {
            // G.107 with a jitter buffer sized to the PDV p99 (at least 20 ms), as the monitor does.
            let d = p50 + max(.milliseconds(20), p99 - p50)
            let lost = sent - min(sent, delivered)
            let meanBurst = runs == 0 ? nil : Double(lost) / Double(runs)
            let burst = EModel.burstRatio(meanBurstLength: meanBurst, lossRatio: residual)
            let r = EModel.rFactor(oneWayDelay: d, lossRatio: residual, burstRatio: burst)
            rFactor = r
            mos = EModel.mos(rFactor: r)
        }
        let minutes = Double(network.simulation.now.nanoseconds) / 60e9
        return ClassSummary(
            edge: branchName,
            name: scenario.classes.classes[c].name,
            direction: entry.direction.rawValue,
            sent: sent,
            delivered: delivered,
            duplicatesDropped: receiver.duplicatesDropped,
            recoveredByFEC: receiver.recoveredByFEC,
            rebuiltBeforeOriginal: receiver.rebuiltBeforeOriginal,
            residualLossRatio: residual,
            oneWayDelayMs: .init(
                p50: p50.map(Self.ms),
                p99: p99.map(Self.ms),
                max: entry.delays.count > 0 ? Self.ms(entry.delays.maximum) : nil
            ),
            longestGapMs: Self.ms(longestGap),
            overheadRatio: sender.payloadBytes == 0 ? nil : Double(sender.wireBytes) / Double(sender.payloadBytes),
            pathChangesPerMinute: minutes > 0 ? Double(entry.pathChanges) / minutes : 0,
            goodputMbps: activeNanoseconds > 0 ? Double(entry.deliveredBytes) * 8 / Double(activeNanoseconds) * 1e3 : 0,
            rFactor: rFactor,
            mos: mos
        )
    }

    func linkSummaries() -> [LinkSummary] {
        var out: [LinkSummary] = []
        for (b, branch) in scenario.topology.branches.enumerated() {
            let edge = network.edges[b]
            for (l, link) in branch.links.enumerated() {
                let simulated = network.links[b][l]
                let quality = edge.linkQuality(UInt8(l)) ?? LinkQuality()
                let up = direction(simulated.up, monitor: quality.forward)
                let down = direction(simulated.down, monitor: quality.reverse)
                let offered = up.offered + down.offered
                let observation = links[b][l]
                out.append(
                    LinkSummary(
                        edge: branch.name,
                        name: link.name,
                        rawLossRatio: offered == 0 ? 0 : Double(up.dropped + down.dropped) / Double(offered),
                        rttMs: .init(p50: quality.rttP50.map(Self.ms), p99: quality.rttP99.map(Self.ms)),
                        jitterMs: Self.ms(max(quality.forward.jitter, quality.reverse.jitter)),
                        up: up,
                        down: down,
                        finalStatus: Self.name(edge.linkStatus(UInt8(l)) ?? .probing),
                        stateChanges: observation.stateChanges.map {
                            StateChangeSummary(
                                atSeconds: Self.seconds($0.at),
                                to: Self.name($0.to),
                                reason: Self.name($0.reason)
                            )
                        },
                        blackouts: observation.blackouts.map { blackout in
                            BlackoutSummary(
                                startedAtSeconds: Self.seconds(blackout.started),
                                endedAtSeconds: blackout.ended.map(Self.seconds),
                                detectedAfterMs: blackout.detected.map { Self.ms($0 - blackout.started) },
                                steeredAfterMs: blackout.steered.map { Self.ms($0 - blackout.started) }
                            )
                        }
                    )
                )
            }
        }
        return out
    }

    func direction(_ link: SimulatedLink<NIOCoreByteBuffer>, monitor: DirectionQuality) -> DirectionSummary {
        let counters = link.model.counters
        let d = counters.dropped
        let dropped = d.loss + d.congestion + d.mtu + d.outage + d.cut
        let seen = monitor.cumulativeReceived + monitor.cumulativeLost
        return DirectionSummary(
            offered: counters.offered,
            dropped: dropped,
            lossRatio: counters.offered == 0 ? 0 : Double(dropped) / Double(counters.offered),
            drops: ["loss": d.loss, "congestion": d.congestion, "mtu": d.mtu, "outage": d.outage, "cut": d.cut],
            monitorLossRatio: seen == 0 ? nil : Double(monitor.cumulativeLost) / Double(seen),
            jitterMs: Self.ms(link.delays.jitter),
            monitorJitterMs: Self.ms(monitor.jitter),
            meanDelayMs: Self.ms(link.delays.mean)
        )
    }

    static func name(_ status: LinkStatus) -> String {
        switch status {
        case .probing: "probing"
        case .up: "up"
        case .degraded: "degraded"
        case .down: "down"
        }
    }

    static func name(_ reason: LinkStatusReason) -> String {
        switch reason {
        case .firstContact: "firstContact"
        case .reverseSilent: "reverseSilent"
        case .forwardSilent: "forwardSilent"
        case .bothSilent: "bothSilent"
        case .recovered: "recovered"
        case .slaBreach(let breach):
            switch breach {
            case .loss(let d): "slaBreach.loss.\(d)"
            case .latency: "slaBreach.latency"
            case .jitter(let d): "slaBreach.jitter.\(d)"
            case .voiceQuality(let d): "slaBreach.voiceQuality.\(d)"
            }
        }
    }
}
