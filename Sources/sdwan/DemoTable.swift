import Foundation
import SDWANNode
import SDWANWANEmulator

/// The live view: once a second, per link the edge's monitor (RTT, loss, jitter, state) beside the
/// emulator's ground-truth loss of the last second, and per class the links in use, delivery so far
/// and FEC recoveries. On a terminal it redraws in place (plain ANSI); otherwise (CI, a pipe) it
/// prints one line per link and class each time, prefixed with the time.
struct DemoTable {
    var tty: Bool
    private var previousTruth: WANEmulatorStats?
    private var drawnLines = 0

    init(tty: Bool) { self.tty = tty }

    mutating func render(
        seconds: Double,
        duration: Double,
        phase: String,
        edge: NodeStatus?,
        hub: NodeStatus?,
        truth: WANEmulatorStats?,
        record: DemoRecord
    ) -> String {
        var rows: [[String]] = [
            ["link", "state", "rtt", "loss tx", "loss rx", "jitter tx", "jitter rx", "truth loss 1s"]
        ]
        let tunnel = edge?.tunnels.first
        for link in tunnel?.links ?? [] {
            rows.append([
                link.name, link.state, Self.ms(link.rttSeconds), Self.pct(link.lossTx), Self.pct(link.lossRx),
                Self.ms(link.jitterTxSeconds), Self.ms(link.jitterRxSeconds), truthLoss(link.name, truth),
            ])
        }
        var classRows: [[String]] = [["class", "links", "sent", "delivered", "fec repaired (early)"]]
        let hubClasses = hub?.tunnels.first?.classes ?? []
        func names(_ ids: [Int]) -> String {
            let list = ids.map { id in tunnel?.links.first { $0.id == id }?.name ?? "\(id)" }
            return list.isEmpty ? "-" : list.joined(separator: "+")
        }
        // Delivery among packets sent at least 300 ms ago (older than any flight and FEC wait).
        let settledBefore = record.nowNs - 300_000_000
        func settled(_ list: [DemoTraffic.Stream]) -> (Int, Int) {
            var sent = 0
            var delivered = 0
            for s in list {
                for (i, t) in s.sentAt.enumerated() where t < settledBefore {
                    sent += 1
                    if s.arrivedAt[i] >= 0 { delivered += 1 }
                }
            }
            return (sent, delivered)
        }
        let streams: [(String, (Int, Int))] = [
            ("voice", settled(record.voice)), ("voice-bare", settled(record.voiceBare)),
            ("transactional", settled([record.pos])), ("bulk", settled([record.bulk])),
        ]
        for (name, (sent, delivered)) in streams {
            let c = tunnel?.classes.first { $0.name == name }
            let hubClass = hubClasses.first { $0.name == name }
            let recovered = hubClass.map { "\($0.recovered) (\($0.rebuiltEarly))" } ?? "0"
            let ratio = sent > 0 ? String(format: "%.2f %%", 100 * Double(delivered) / Double(sent)) : "-"
            classRows.append([name, names(c?.links ?? []), "\(sent)", ratio, "\(recovered)"])
        }
        previousTruth = truth ?? previousTruth
        let head = String(format: "t = %4.1f s of %.0f s   %@", seconds, duration, phase)
        let bulk = String(
            format: "bulk sender %.2f Mbit/s (%d back-offs)",
            record.bulkBitsPerSecond / 1e6,
            record.bulkBackoffs
        )
        if tty {
            let lines = [head, ""] + Self.align(rows) + [""] + Self.align(classRows) + [bulk]
            var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
            text += lines.map { $0 + "\u{1B}[K" }.joined(separator: "\n") + "\n"
            drawnLines = lines.count
            return text
        }
        let linkPart = rows.dropFirst().map { "\($0[0]) \($0[1]) rtt \($0[2]) loss \($0[3])/\($0[4]) truth \($0[7])" }
        let classPart = classRows.dropFirst().map { "\($0[0])@\($0[1]) \($0[3]) fec \($0[4])" }
        return String(format: "[%5.1f s] ", seconds) + linkPart.joined(separator: " | ") + "\n          "
            + classPart.joined(separator: " | ") + "\n"
    }

    /// The emulator's loss (non-cut drops, both directions) since the previous frame.
    private func truthLoss(_ name: String, _ truth: WANEmulatorStats?) -> String {
        guard let now = truth?.links.first(where: { $0.name == name }) else { return "-" }
        let before = previousTruth?.links.first { $0.name == name }
        func totals(_ l: LinkStats?) -> (offered: UInt64, lost: UInt64, cut: UInt64) {
            guard let l else { return (0, 0, 0) }
            let u = l.up.model
            let d = l.down.model
            let lost = u.dropped.loss + u.dropped.outage + d.dropped.loss + d.dropped.outage
            return (u.offered + d.offered, lost, u.dropped.cut + d.dropped.cut)
        }
        let a = totals(before)
        let b = totals(now)
        let offered = b.offered - a.offered
        if b.cut > a.cut { return "cut" }
        guard offered > 0 else { return "-" }
        return String(format: "%.2f %%", 100 * Double(b.lost - a.lost) / Double(offered))
    }

    /// Columns padded to their widest cell, two spaces apart.
    static func align(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        let widths = first.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
    }

    static func ms(_ s: Double?) -> String { s.map { String(format: "%.1f ms", $0 * 1_000) } ?? "-" }
    static func pct(_ r: Double?) -> String { r.map { String(format: "%.2f %%", $0 * 100) } ?? "-" }
}
