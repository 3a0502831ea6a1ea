import Foundation
import SDWANCore
import SDWANIO

#if canImport(Glibc)
import Glibc
#endif

/// `sdwan status`'s side of the status server: one blocking HTTP/1.1 GET over TCP (loopback).
public enum StatusClient {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The body of `GET path` at `address`; fails on a non-200 answer or after `timeout` seconds.
    public static func get(_ path: String, from address: UDPEndpoint, timeout: Int = 5) throws -> String {
        let fd = socket(address.address.isV4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let connected = address.socketAddress.withSockAddr { connect(fd, $0, socklen_t($1)) == 0 }
        guard connected else {
            throw Failure(
                description: "cannot reach \(address): \(String(cString: strerror(errno))) (is the node running?)"
            )
        }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw Failure(description: "reading from \(address): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            data += chunk[0..<n]
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else {
            throw Failure(description: "no HTTP answer from \(address)")
        }
        let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
        guard statusLine.contains(" 200 ") else { throw Failure(description: "\(address)\(path): \(statusLine)") }
        return String(text[split.upperBound...])
    }

    /// The node's status.
    public static func status(from address: UDPEndpoint) throws -> NodeStatus {
        let body = try get("/status", from: address)
        do {
            return try JSONDecoder().decode(NodeStatus.self, from: Data(body.utf8))
        } catch {
            throw Failure(description: "unexpected /status from \(address): \(error)")
        }
    }
}

extension NodeStatus {
    /// The readable table `sdwan status` prints.
    public var table: String {
        func ms(_ s: Double?) -> String { s.map { String(format: "%.1f ms", $0 * 1_000) } ?? "-" }
        func pct(_ r: Double?) -> String { r.map { String(format: "%.2f %%", $0 * 100) } ?? "-" }
        var lines = ["\(role) \(name), up \(Int(uptimeSeconds)) s, \(forwardFlows) forward flows"]
        if role == "edge" {
            lines.append("active hub: \(activeHub ?? "none yet") (\(hubSwitches ?? 0) switches)")
        }
        for tunnel in tunnels {
            lines.append("")
            lines.append(
                "tunnel to \(tunnel.peer): \(tunnel.established ? "established" : "not established"), "
                    + "inner MTU \(tunnel.innerMTU)\(tunnel.active == true ? ", active" : "")"
            )
            let header = [
                "link", "state", "rtt", "loss tx", "loss rx", "jitter tx", "jitter rx", "tx bytes", "rx bytes",
            ]
            var rows = [header]
            for l in tunnel.links {
                rows.append([
                    "\(l.name) (\(l.id))", l.state, ms(l.rttSeconds), pct(l.lossTx), pct(l.lossRx),
                    ms(l.jitterTxSeconds),
                    ms(l.jitterRxSeconds), "\(l.bytesSent)", "\(l.bytesReceived)",
                ])
            }
            lines += Self.align(rows)
            rows = [["class", "links", "sent", "delivered", "fec repaired", "fec early", "dup", "held", "hold drops"]]
            for c in tunnel.classes {
                rows.append([
                    c.name, c.links.map(String.init).joined(separator: ","), "\(c.sent)", "\(c.delivered)",
                    "\(c.recovered)", "\(c.rebuiltEarly)", "\(c.duplicates)", "\(c.held)", "\(c.holdDropped)",
                ])
            }
            lines += Self.align(rows)
            if !tunnel.drops.isEmpty {
                lines.append(
                    "drops: "
                        + tunnel.drops.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                            separator: ", "
                        )
                )
            }
        }
        let nonZero = nodeDrops.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        if !nonZero.isEmpty {
            lines.append("")
            lines.append("node drops: " + nonZero.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    static func align(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        let widths = first.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: "  "
            )
        }
    }
}
