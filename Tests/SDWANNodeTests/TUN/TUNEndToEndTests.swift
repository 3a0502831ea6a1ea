import Foundation
import Testing

/// Issue #13, "End-to-end with real clients": iperf3 from the branch namespace to the server
/// namespace through edge and hub in TUN mode, with the WAN emulator on the links' path
/// (TUNEmulatedRig) steered live by `sdwan wanem ctl`. Every bound is stated before measuring.
@Suite(
    .serialized,
    .enabled(if: Netns.available && Netns.haveTools(["ping", "iperf3"])),
    .timeLimit(.minutes(5))
)
struct TUNEndToEndTests {
    /// One iperf3 interval: start and end (s) and the rate (bit/s).
    struct Interval {
        var start: Double
        var end: Double
        var rate: Double
    }

    /// Blackout of the active link 3 s into an 8 s TCP transfer paced at 20 Mbit/s.
    ///
    /// Bound, from the design: detection window W = max(3 × 100 ms probes, 100 ms + 4 × SRTT)
    /// = 300 ms on this short path (docs/operations.md); Linux's minimum TCP RTO is 200 ms and the
    /// first retransmission may fall inside W and be lost, so the sender's second one (backed off
    /// to 400 ms) goes out at most 0.3 + 0.2 + 0.4 = 0.9 s after the cut. With 0.5 s intervals a
    /// 0.9 s stall touches at most three of them: at most 1.5 s of intervals below 10 % of the
    /// pre-cut rate. Afterwards the flow is back: the mean of the last 3 s ≥ half the pre-cut rate.
    @Test func tcpSurvivesBlackoutOfActiveLinkWithBoundedStall() async throws {
        let e2e = try TUNEmulatedRig()
        do {
            try await e2e.start()
            let client = try await e2e.startTCPTransfer(log: "iperf3-blackout.json")
            try await Task.sleep(for: .milliseconds(1_500))
            let active = try await e2e.activeLink(over: 1.0)
            try await Task.sleep(for: .milliseconds(500))
            let atCut = try await e2e.upSent()
            try await e2e.ctl([active, "down"])
            await client.wait(timeout: 20)
            let atEnd = try await e2e.upSent()
            // The flow moved: ~1900 packets/s at 20 Mbit/s for the ~4.5 s after the cut, ≥ 3000.
            let other = active == "a" ? "b" : "a"
            let moved = (atEnd[other] ?? 0) - (atCut[other] ?? 0)
            let intervals = try Self.intervals(client.log)
            let preCut = Self.mean(intervals.filter { $0.start >= 1.0 && $0.end <= 3.0 })
            let stalled = intervals.filter { $0.start >= 2.5 && $0.rate < 0.1 * preCut }
            let stall = stalled.reduce(0) { $0 + $1.end - $1.start }
            let after = Self.mean(intervals.filter { $0.start >= 5.0 })
            let dip = intervals.filter { $0.start >= 2.5 && $0.end <= 5.0 }.map { Int($0.rate / 1e6) }
            print(
                "TUN e2e blackout of \(active): pre-cut \(Int(preCut / 1e6)) Mbit/s, stall \(stall) s,"
                    + " Mbit/s per 0.5 s from 2.5 s: \(dip), after \(Int(after / 1e6)) Mbit/s,"
                    + " \(Int(moved)) packets on \(other) after the cut"
            )
            #expect(preCut > 5e6, "iperf3: \(client.log)")
            #expect(stall <= 1.5, "stalled intervals \(stalled)")
            #expect(moved >= 3_000, "packets relayed on \(other) after the cut: \(moved)")
            #expect(after >= 0.5 * preCut, "after the cut: \(after) bit/s")
            #expect(intervals.count >= 15, "the transfer completed: \(intervals.count) intervals")
        } catch {
            await e2e.tearDown()
            throw error
        }
        await e2e.tearDown()
    }

    /// 2 % random loss on both links (both directions) and iperf3's UDP flow in a class with XOR
    /// FEC, k = 4 data packets per parity, stride 1.
    ///
    /// Expected residual loss (REFERENCE.md, "XOR FEC"): p_res = p·[1 − (1 − p)^k] with the parity
    /// counted among the k others that must survive, = 0.02 × (1 − 0.98⁴) = 0.15526 %. For N
    /// packets sent the binomial standard error is √(p_res(1 − p_res)/N); at 10 Mbit/s of 1200-byte
    /// datagrams for 6 s, N ≈ 6250, SE ≈ 0.050 %, so iperf3's loss must lie within 3 SE of
    /// p_res for the N it reports (without FEC it would be 2 %, 37 SE away).
    @Test func udpLossWithFECMatchesResidualLossFormula() async throws {
        let p = 0.02
        let k = Double(TUNEmulatedRig.fecK)
        let residual = p * (1 - pow(1 - p, k))
        let e2e = try TUNEmulatedRig()
        do {
            try await e2e.start()
            let port = "\(TUNEmulatedRig.fecPort)"
            _ = try e2e.rig.background("S", ["iperf3", "-s", "-p", port], log: "iperf3-udp-server.log")
            try await Task.sleep(for: .milliseconds(300))
            for link in ["a", "b"] { try await e2e.ctl([link, "loss", "2%"]) }
            let out = try await e2e.rig.exec(
                "B",
                ["iperf3", "-c", TUNRig.serverV4, "-p", port, "-u", "-b", "10M", "-l", "1200", "-t", "6", "-J"],
                timeout: 30
            )
            let sent = Self.number(out.stdout, ["end", "sum", "packets"])
            let lost = Self.number(out.stdout, ["end", "sum", "lost_packets"])
            let n = try #require(sent, "iperf3: \(out.stdout) \(out.stderr)")
            let l = try #require(lost, "iperf3: \(out.stdout)")
            let se = (residual * (1 - residual) / n).squareRoot()
            let measured = l / n
            print(
                "TUN e2e FEC k=\(Int(k)) at 2 % loss: iperf3 lost \(Int(l)) of \(Int(n)) = "
                    + String(
                        format: "%.4f %%, expected %.4f %% ± %.4f %% (3 SE)",
                        measured * 100,
                        residual * 100,
                        3 * se * 100
                    )
            )
            #expect(n >= 5_000, "packets sent: \(n)")
            #expect(abs(measured - residual) <= 3 * se, "lost \(l) of \(n)")
        } catch {
            await e2e.tearDown()
            throw error
        }
        await e2e.tearDown()
    }

    /// A NAT-like rebind (new hub-facing source port) of both links 3 s into an 8 s TCP transfer:
    /// the hub learns the new source from the next authenticated packet; replies already sent to
    /// the old port are lost, which TCP repairs with at most one RTO (200 ms minimum) plus one
    /// backed-off one (400 ms): at most 1.0 s of 0.5 s intervals below 10 % of the pre-rebind rate,
    /// and the transfer completes.
    @Test func tcpContinuesAcrossSourcePortRebind() async throws {
        let e2e = try TUNEmulatedRig()
        do {
            try await e2e.start()
            let client = try await e2e.startTCPTransfer(log: "iperf3-rebind.json")
            try await Task.sleep(for: .milliseconds(1_500))
            let active = try await e2e.activeLink(over: 1.0)
            try await Task.sleep(for: .milliseconds(500))
            for link in ["a", "b"] { try await e2e.ctl([link, "rebind"]) }
            await client.wait(timeout: 20)
            let intervals = try Self.intervals(client.log)
            let before = Self.mean(intervals.filter { $0.start >= 1.0 && $0.end <= 3.0 })
            let stalled = intervals.filter { $0.start >= 2.5 && $0.rate < 0.1 * before }
            let stall = stalled.reduce(0) { $0 + $1.end - $1.start }
            print(
                "TUN e2e rebind (active link \(active)): before \(Int(before / 1e6)) Mbit/s, stall \(stall) s,"
                    + " Mbit/s per 0.5 s: \(intervals.map { Int($0.rate / 1e6) })"
            )
            #expect(before > 5e6, "iperf3: \(client.log)")
            #expect(stall <= 1.0, "stalled intervals \(stalled)")
            #expect(intervals.count >= 15, "the transfer completed: \(intervals.count) intervals")
            let wanemLog = e2e.wanem?.log ?? ""
            #expect(!wanemLog.contains("error"), "wanem: \(wanemLog)")
        } catch {
            await e2e.tearDown()
            throw error
        }
        await e2e.tearDown()
    }

    static func mean(_ intervals: [Interval]) -> Double {
        intervals.isEmpty ? 0 : intervals.reduce(0) { $0 + $1.rate } / Double(intervals.count)
    }

    /// iperf3 `-J` intervals; the text may carry stderr lines before the JSON.
    static func intervals(_ text: String) throws -> [Interval] {
        guard let brace = text.firstIndex(of: "{"),
            let root = try JSONSerialization.jsonObject(with: Data(text[brace...].utf8)) as? [String: Any],
            let list = root["intervals"] as? [[String: Any]]
        else { throw Netns.CommandError(description: "iperf3 JSON: \(text)") }
        return list.compactMap { entry in
            guard let sum = entry["sum"] as? [String: Any], let start = (sum["start"] as? NSNumber)?.doubleValue,
                let end = (sum["end"] as? NSNumber)?.doubleValue,
                let rate = (sum["bits_per_second"] as? NSNumber)?.doubleValue
            else { return nil }
            return Interval(start: start, end: end, rate: rate)
        }
    }

    static func number(_ text: String, _ path: [String]) -> Double? {
        TUNNamespaceTests.jsonNumber(text, path: path)
    }
}
