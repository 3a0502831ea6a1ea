import Foundation
import SDWANNode
import SDWANWANEmulator

/// The demo's result: per class what the sinks counted, per link the emulator's ground truth,
/// the failover as measured, and the expectations with their bounds. Written with `--json`
/// (docs/demo.md, docs/live-vs-sim.md).
struct DemoSummary: Codable {
    struct ClassResult: Codable {
        var name: String
        var sent: Int
        var delivered: Int
        var residualLossRatio: Double
        /// Lost ÷ sent among packets sent outside the failover window after the blackout.
        var residualLossOutsideFailover: Double?
        var packetsOutsideFailover: Int?
        var longestGapMs: Double?
        /// Longest gap between deliveries of one call that overlaps the blackout's first 3 s.
        var blackoutGapMs: Double?
        var oneWayDelayP50Ms: Double?
        var oneWayDelayP99Ms: Double?
        /// Losses FEC repaired at the hub (rebuilt members whose original never arrived).
        var recoveredByFEC: UInt64
        /// Members the hub rebuilt before their late original arrived (parity on a faster link).
        var rebuiltBeforeOriginal: UInt64 = 0
        /// Originals the hub dropped as duplicates (late originals of early rebuilds included).
        var duplicatesDropped: UInt64 = 0
        /// The edge's wire packets ÷ inner packets − 1 (parity, copies).
        var overheadRatio: Double?
        var links: String
    }

    struct LinkResult: Codable {
        var name: String
        var finalState: String
        var upOffered: UInt64
        var upLost: UInt64
        var upCut: UInt64
        var downOffered: UInt64
        var downLost: UInt64
        var downCut: UInt64
        /// Model drops other than cuts (loss, outage, congestion, MTU) ÷ offered, both directions.
        var lossRatio: Double
    }

    struct Expectation: Codable {
        var name: String
        var value: Double?
        var min: Double?
        var max: Double?
        var passed: Bool
        var why: String
    }

    var durationSeconds: Double
    var timeline: [String]
    var cutAtSeconds: Double
    /// The edge monitor's smoothed RTT of MPLS just before the cut.
    var mplsRTTAtCutMs: Double?
    var detectionWindowMs: Double
    var failoverBoundMs: Double
    /// Cut → the edge's /status showing MPLS down (polled every 100 ms).
    var detectedAfterMs: Double?
    /// Cut → the voice class no longer using MPLS (0 when it was not on MPLS).
    var steeredAfterMs: Double?
    var voiceLinkAtCut: String?
    var classes: [ClassResult]
    var links: [LinkResult]
    var posTransactions: Int
    var posCompleted: Int
    var bulkGoodputMbps: Double
    var bulkBackoffs: Int
    var expectations: [Expectation]
    var passed: Bool
}

/// What the demo observed while it ran, besides the traffic record.
struct DemoObservations {
    var cutAtNs: Int64?
    var detectedAtNs: Int64?
    var steeredAtNs: Int64?
    var voiceLinkAtCut: String?
    var mplsRTTAtCutMs: Double?
    var edge: NodeStatus?
    var hub: NodeStatus?
    var truth: WANEmulatorStats?
}

enum DemoSummaryBuilder {
    static func build(plan: DemoPlan, record: DemoRecord, seen: DemoObservations) -> DemoSummary {
        let cutNs = seen.cutAtNs ?? Int64(plan.cutAt * 1e9)
        let boundMs = DemoPlan.failoverBoundMs(srttMs: seen.mplsRTTAtCutMs)
        let boundNs = Int64(boundMs * 1e6)
        let edgeTunnel = seen.edge?.tunnels.first
        let hubTunnel = seen.hub?.tunnels.first
        func linkNames(_ ids: [Int]) -> String {
            ids.map { id in edgeTunnel?.links.first { $0.id == id }?.name ?? "\(id)" }.joined(separator: "+")
        }
        func classStatus(_ name: String) -> (edge: ClassStatusSnapshot?, hub: ClassStatusSnapshot?) {
            (edgeTunnel?.classes.first { $0.name == name }, hubTunnel?.classes.first { $0.name == name })
        }

        func voiceResult(_ name: String, _ streams: [DemoTraffic.Stream]) -> DemoSummary.ClassResult {
            var sent = 0
            var delivered = 0
            var outside = 0
            var outsideLost = 0
            var longest: Int64 = 0
            var atBlackout: Int64 = 0
            var delays: [Int64] = []
            for s in streams {
                sent += s.sentAt.count
                delivered += s.delivered
                for i in s.sentAt.indices {
                    let t = s.sentAt[i]
                    if s.arrivedAt[i] >= 0 { delays.append(s.arrivedAt[i] - t) }
                    if t >= cutNs && t < cutNs + boundNs { continue }
                    outside += 1
                    if s.arrivedAt[i] < 0 { outsideLost += 1 }
                }
                for (a, b) in zip(s.arrivals, s.arrivals.dropFirst()) {
                    longest = max(longest, b - a)
                    if b >= cutNs && a <= cutNs + 3_000_000_000 { atBlackout = max(atBlackout, b - a) }
                }
            }
            delays.sort()
            let status = classStatus(name)
            let overhead = status.edge.flatMap { e -> Double? in
                e.sent > 0 ? Double(e.wirePackets) / Double(e.sent) - 1 : nil
            }
            return DemoSummary.ClassResult(
                name: name,
                sent: sent,
                delivered: delivered,
                residualLossRatio: sent > 0 ? 1 - Double(delivered) / Double(sent) : 0,
                residualLossOutsideFailover: outside > 0 ? Double(outsideLost) / Double(outside) : nil,
                packetsOutsideFailover: outside,
                longestGapMs: Double(longest) / 1e6,
                blackoutGapMs: Double(atBlackout) / 1e6,
                oneWayDelayP50Ms: percentile(delays, 0.5),
                oneWayDelayP99Ms: percentile(delays, 0.99),
                recoveredByFEC: status.hub?.recovered ?? 0,
                rebuiltBeforeOriginal: status.hub?.rebuiltEarly ?? 0,
                duplicatesDropped: status.hub?.duplicates ?? 0,
                overheadRatio: overhead,
                links: linkNames(status.edge?.links ?? [])
            )
        }

        var classes = [voiceResult("voice", record.voice), voiceResult("voice-bare", record.voiceBare)]

        // POS: a transaction counts when its response came back within the timeout; requests
        // sent less than a timeout before the end are not counted.
        let endNs = record.nowNs
        let timeoutNs = Int64(DemoPlan.posTimeout * 1e9)
        var transactions = 0
        var completed = 0
        var rtts: [Int64] = []
        for i in record.pos.sentAt.indices where record.pos.sentAt[i] + timeoutNs <= endNs {
            transactions += 1
            let rtt = record.pos.arrivedAt[i] - record.pos.sentAt[i]
            if record.pos.arrivedAt[i] >= 0 && rtt <= timeoutNs {
                completed += 1
                rtts.append(rtt)
            }
        }
        rtts.sort()
        let posStatus = classStatus("transactional")
        classes.append(
            DemoSummary.ClassResult(
                name: "transactional",
                sent: transactions,
                delivered: completed,
                residualLossRatio: transactions > 0 ? 1 - Double(completed) / Double(transactions) : 0,
                oneWayDelayP50Ms: percentile(rtts, 0.5).map { $0 / 2 },
                oneWayDelayP99Ms: percentile(rtts, 0.99).map { $0 / 2 },
                recoveredByFEC: 0,
                overheadRatio: posStatus.edge.flatMap {
                    $0.sent > 0 ? Double($0.wirePackets) / Double($0.sent) - 1 : nil
                },
                links: linkNames(posStatus.edge?.links ?? [])
            )
        )

        let bulkStatus = classStatus("bulk")
        let bulkSent = record.bulk.sentAt.count
        let activeSeconds = max(0.001, Double(record.bulk.sentAt.last ?? 0) / 1e9)
        let goodput = Double(record.bulk.delivered * DemoPlan.bulkSize * 8) / activeSeconds / 1e6
        classes.append(
            DemoSummary.ClassResult(
                name: "bulk",
                sent: bulkSent,
                delivered: record.bulk.delivered,
                residualLossRatio: bulkSent > 0 ? 1 - Double(record.bulk.delivered) / Double(bulkSent) : 0,
                recoveredByFEC: 0,
                overheadRatio: bulkStatus.edge.flatMap {
                    $0.sent > 0 ? Double($0.wirePackets) / Double($0.sent) - 1 : nil
                },
                links: linkNames(bulkStatus.edge?.links ?? [])
            )
        )

        var links: [DemoSummary.LinkResult] = []
        for l in seen.truth?.links ?? [] {
            let up = l.up.model
            let down = l.down.model
            let upLost = up.dropped.loss + up.dropped.outage + up.dropped.congestion + up.dropped.mtu
            let downLost = down.dropped.loss + down.dropped.outage + down.dropped.congestion + down.dropped.mtu
            let offered = up.offered + down.offered - up.dropped.cut - down.dropped.cut
            links.append(
                DemoSummary.LinkResult(
                    name: l.name,
                    finalState: edgeTunnel?.links.first { $0.name == l.name }?.state ?? "?",
                    upOffered: up.offered,
                    upLost: upLost,
                    upCut: up.dropped.cut,
                    downOffered: down.offered,
                    downLost: downLost,
                    downCut: down.dropped.cut,
                    lossRatio: offered > 0 ? Double(upLost + downLost) / Double(offered) : 0
                )
            )
        }

        let detected = seen.detectedAtNs.map { Double($0 - cutNs) / 1e6 }
        let steered = seen.steeredAtNs.map { Double(max(0, $0 - cutNs)) / 1e6 }
        let expectations = DemoExpectations.check(
            voice: classes[0],
            pos: (transactions, completed),
            detectedAfterMs: detected,
            srttMs: seen.mplsRTTAtCutMs,
            duration: plan.duration
        )
        return DemoSummary(
            durationSeconds: plan.duration,
            timeline: plan.events.map { "\(Int($0.at)) s: \($0.label)" },
            cutAtSeconds: Double(cutNs) / 1e9,
            mplsRTTAtCutMs: seen.mplsRTTAtCutMs,
            detectionWindowMs: DemoPlan.detectionMs(srttMs: seen.mplsRTTAtCutMs),
            failoverBoundMs: boundMs,
            detectedAfterMs: detected,
            steeredAfterMs: steered,
            voiceLinkAtCut: seen.voiceLinkAtCut,
            classes: classes,
            links: links,
            posTransactions: transactions,
            posCompleted: completed,
            bulkGoodputMbps: goodput,
            bulkBackoffs: record.bulkBackoffs,
            expectations: expectations,
            passed: expectations.allSatisfy(\.passed)
        )
    }

    /// Nearest-rank percentile in ms of sorted nanosecond values.
    static func percentile(_ sorted: [Int64], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
        return Double(sorted[rank]) / 1e6
    }
}
