/// Prometheus text exposition format 0.0.4, base units (seconds, bytes, ratios), one family
/// at a time with its HELP and TYPE (docs/operations.md, "Metrics").
struct MetricsText {
    /// Families in first-declared order, each with its samples kept together (the format wants
    /// a family's samples contiguous).
    private var order: [String] = []
    private var families: [String: (header: String, lines: String)] = [:]
    private var current = ""

    var output: String { order.map { families[$0]!.header + families[$0]!.lines }.joined() }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func labelText(_ labels: [(String, String)]) -> String {
        labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    mutating func declare(_ name: String, _ type: String, _ help: String) {
        current = name
        guard families[name] == nil else { return }
        order.append(name)
        families[name] = ("# HELP \(name) \(help)\n# TYPE \(name) \(type)\n", "")
    }

    /// A sample of the family declared last.
    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        families[current]!.lines += "\(name)\(Self.labelText(labels)) \(Self.number(value))\n"
    }

    mutating func counter(_ name: String, _ help: String, _ labels: [(String, String)], _ value: UInt64) {
        declare(name, "counter", help)
        sample(name, labels, Double(value))
    }

    mutating func gauge(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Double) {
        declare(name, "gauge", help)
        sample(name, labels, value)
    }

    mutating func histogram(_ name: String, _ help: String, _ labels: [(String, String)], _ h: Histogram) {
        declare(name, "histogram", help)
        for (le, count) in h.cumulative { sample(name + "_bucket", labels + [("le", le)], Double(count)) }
        sample(name + "_sum", labels, h.sum)
        sample(name + "_count", labels, Double(h.count))
    }

    static let states = ["probing", "up", "degraded", "down"]

    /// Every counter and gauge of a status snapshot.
    mutating func node(_ status: NodeStatus, counters: NodeCounters) {
        let role = [("role", status.role)]
        gauge("sdwan_uptime_seconds", "Seconds since the node started.", role, status.uptimeSeconds)
        counter("sdwan_datagrams_received_total", "Datagrams read from link sockets.", [], status.datagramsReceived)
        counter("sdwan_datagrams_sent_total", "Datagrams written to link sockets.", [], status.datagramsSent)
        counter("sdwan_read_batches_total", "Read batches (one clock read each).", [], counters.batches)
        if let switches = status.hubSwitches {
            counter("sdwan_hub_switches_total", "The edge: changes of the active hub.", [], switches)
        }
        counter(
            "sdwan_forward_datagrams_in_total",
            "Forward datagrams from clients or targets.",
            [],
            counters.forwardIn
        )
        counter(
            "sdwan_forward_datagrams_out_total",
            "Forward datagrams to clients or targets.",
            [],
            counters.forwardOut
        )
        gauge("sdwan_forward_flows", "Forward flows open.", [], Double(status.forwardFlows))
        counter("sdwan_tun_packets_in_total", "Inner packets read from the TUN device.", [], counters.tunIn)
        counter("sdwan_tun_packets_out_total", "Inner packets written to the TUN device.", [], counters.tunOut)
        counter(
            "sdwan_node_icmp_too_big_total",
            "ICMP too-big replies the node wrote into its TUN device.",
            [],
            counters.tooBigSent
        )
        for reason in NodeDropReason.allCases {
            counter(
                "sdwan_node_drops_total",
                "Datagrams the I/O ring dropped or refused, by reason.",
                [("reason", reason.label)],
                counters[reason]
            )
        }
        for (key, value) in status.nodeDrops.sorted(by: { $0.key < $1.key }) where key.hasPrefix("hub_") {
            counter(
                "sdwan_hub_drops_total",
                "Datagrams and inner packets the hub endpoint dropped, by reason.",
                [("reason", String(key.dropFirst(4)))],
                value
            )
        }
        for tunnel in status.tunnels {
            let peer = ("peer", tunnel.peer)
            gauge("sdwan_tunnel_established", "1 when the tunnel has keys.", [peer], tunnel.established ? 1 : 0)
            counter("sdwan_tunnel_handshakes_total", "Handshakes completed (rekeys apart).", [peer], tunnel.handshakes)
            counter("sdwan_tunnel_rekeys_total", "Rekeys completed.", [peer], tunnel.rekeys)
            if let active = tunnel.active {
                gauge(
                    "sdwan_hub_active",
                    "The edge: 1 for the hub carrying its traffic.",
                    [("hub", tunnel.peer)],
                    active ? 1 : 0
                )
            }
            for link in tunnel.links {
                let l = [peer, ("link", link.name)]
                for state in Self.states {
                    gauge(
                        "sdwan_link_state",
                        "1 for the link's current state.",
                        l + [("state", state)],
                        link.state == state ? 1 : 0
                    )
                }
                if let rtt = link.rttSeconds { gauge("sdwan_link_rtt_smoothed_seconds", "Smoothed RTT.", l, rtt) }
                if let loss = link.lossTx {
                    gauge("sdwan_link_loss_ratio", "Loss over the SLA window.", l + [("direction", "tx")], loss)
                }
                if let loss = link.lossRx {
                    gauge("sdwan_link_loss_ratio", "Loss over the SLA window.", l + [("direction", "rx")], loss)
                }
                gauge(
                    "sdwan_link_jitter_current_seconds",
                    "RFC 3550 jitter.",
                    l + [("direction", "tx")],
                    link.jitterTxSeconds
                )
                gauge(
                    "sdwan_link_jitter_current_seconds",
                    "RFC 3550 jitter.",
                    l + [("direction", "rx")],
                    link.jitterRxSeconds
                )
                let bytesHelp = "Bytes on the link, probes and tunnel overhead included, outer IP/UDP excluded."
                counter("sdwan_link_bytes_total", bytesHelp, l + [("direction", "tx")], link.bytesSent)
                counter("sdwan_link_bytes_total", bytesHelp, l + [("direction", "rx")], link.bytesReceived)
                let packetsHelp = "Datagrams on the link, probes included."
                counter("sdwan_link_packets_total", packetsHelp, l + [("direction", "tx")], link.packetsSent)
                counter("sdwan_link_packets_total", packetsHelp, l + [("direction", "rx")], link.packetsReceived)
            }
            for cls in tunnel.classes {
                let c = [peer, ("class", cls.name)]
                counter("sdwan_class_sent_total", "Inner packets offered to the class.", c, cls.sent)
                counter("sdwan_class_delivered_total", "Inner packets delivered.", c, cls.delivered)
                // Two counters that only rise: every rebuild, and the rebuilds whose late original
                // arrived afterwards. Losses repaired = rebuilt - rebuilt early (that difference can
                // step back by one, so it is not exported as a counter itself).
                counter(
                    "sdwan_class_fec_rebuilt_total",
                    "Packets rebuilt from FEC parity.",
                    c,
                    cls.recovered &+ cls.rebuiltEarly
                )
                counter(
                    "sdwan_class_fec_rebuilt_early_total",
                    "Packets rebuilt from parity before their late original arrived.",
                    c,
                    cls.rebuiltEarly
                )
                counter("sdwan_class_duplicates_total", "Copies dropped by dedupe.", c, cls.duplicates)
                counter("sdwan_class_held_total", "Packets that waited for a link.", c, cls.held)
                counter(
                    "sdwan_class_late_total",
                    "Packets that arrived after their reorder gap was skipped.",
                    c,
                    cls.late
                )
                counter("sdwan_class_hold_dropped_total", "Packets dropped from the hold queue.", c, cls.holdDropped)
                counter(
                    "sdwan_class_wire_packets_total",
                    "Datagrams put on links (copies, parity).",
                    c,
                    cls.wirePackets
                )
                counter("sdwan_class_wire_bytes_total", "Bytes put on links.", c, cls.wireBytes)
            }
            for (reason, value) in tunnel.drops.sorted(by: { $0.key < $1.key }) {
                counter(
                    "sdwan_engine_drops_total",
                    "Packets the engine dropped, by reason.",
                    [peer, ("reason", reason)],
                    value
                )
            }
        }
    }

    /// The per-link histograms.
    mutating func histograms(_ h: LinkHistograms, names: [String], peer: String) {
        for (i, name) in names.enumerated() where i < h.rtt.count {
            let l = [("peer", peer), ("link", name)]
            histogram("sdwan_link_rtt_seconds", "Smoothed RTT, sampled once a second.", l, h.rtt[i])
            histogram(
                "sdwan_link_jitter_seconds",
                "RFC 3550 jitter, sampled once a second.",
                l + [("direction", "tx")],
                h.jitterTx[i]
            )
            histogram(
                "sdwan_link_jitter_seconds",
                "RFC 3550 jitter, sampled once a second.",
                l + [("direction", "rx")],
                h.jitterRx[i]
            )
        }
    }
}
