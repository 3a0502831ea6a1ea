import Foundation
import NIOCore
import SDWANCore
import SDWANIO
import SDWANNode
import Testing

/// The hub's /metrics: per-branch, per-link RTT and jitter histograms like the edge's, parsed
/// with the test's parser and `prometheus_client` when installed.
@Suite(.serialized)
struct LiveHubMetricsTests {
    @Test func hubMetricsCarryPerBranchPerLinkHistogramsWhoseBucketsAddUp() async throws {
        try await LiveNodeTests.Rig.run { rig in
            #expect(try await rig.established())
            try await rig.client.send(to: rig.forwardPort, count: 50, rate: 500)
            _ = await eventually(3) { rig.client.received.count >= 50 }
            // Two or more once-a-second samples per link.
            try await Task.sleep(nanoseconds: 2_200_000_000)
            let server = try await StatusServer.start(for: rig.hub, at: UDPEndpoint("127.0.0.1:0")!).get()
            let text = try await Task.detached { try StatusClient.get("/metrics", from: server.localEndpoint) }.value
            // Counters rise between two scrapes with traffic in between: 50 more echoes.
            try await rig.client.send(to: rig.forwardPort, count: 50, rate: 500, firstSeq: 50)
            _ = await eventually(3) { rig.client.received.count >= 100 }
            let later = try await Task.detached { try StatusClient.get("/metrics", from: server.localEndpoint) }
                .value
            try? await server.close().get()
            let metrics = PrometheusText.parse(text)
            let laterMetrics = PrometheusText.parse(later)
            let replies = ["peer": "store0", "class": "default"]
            let sentBefore = try #require(metrics.value("sdwan_class_sent_total", replies))
            let sentAfter = try #require(laterMetrics.value("sdwan_class_sent_total", replies))
            #expect(sentBefore == 50 && sentAfter == 100)
            let receivedBefore = try #require(metrics.value("sdwan_datagrams_received_total", [:]))
            let receivedAfter = try #require(laterMetrics.value("sdwan_datagrams_received_total", [:]))
            #expect(receivedAfter >= receivedBefore + 50)
            let hubStatus = try await rig.hub.status().get()
            let tunnel = try #require(hubStatus.tunnels.first { $0.peer == "store0" })
            #expect(tunnel.links.map(\.name).sorted() == ["dsl", "fiber", "lte"])
            for link in tunnel.links {
                let labels = ["peer": "store0", "link": link.name]
                let count = try #require(metrics.value("sdwan_link_rtt_seconds_count", labels))
                let inf = metrics.value("sdwan_link_rtt_seconds_bucket", labels.merging(["le": "+Inf"]) { $1 })
                #expect(count >= 1 && inf == count)
                #expect(metrics.bucketsAreCumulative("sdwan_link_rtt_seconds_bucket", labels))
                // The SLA-edge buckets are all there, 0.005 … 0.4 s.
                for le in ["0.005", "0.01", "0.025", "0.05", "0.065", "0.08", "0.1", "0.15", "0.2", "0.4"] {
                    #expect(metrics.value("sdwan_link_rtt_seconds_bucket", labels.merging(["le": le]) { $1 }) != nil)
                }
                for direction in ["tx", "rx"] {
                    let jitter = labels.merging(["direction": direction]) { $1 }
                    let jitterCount = metrics.value("sdwan_link_jitter_seconds_count", jitter)
                    let jitterInf = metrics.value(
                        "sdwan_link_jitter_seconds_bucket",
                        jitter.merging(["le": "+Inf"]) { $1 }
                    )
                    #expect(jitterCount == count && jitterInf == count)
                    #expect(
                        metrics.value("sdwan_link_jitter_seconds_bucket", jitter.merging(["le": "0.001"]) { $1 }) != nil
                    )
                    #expect(
                        metrics.value("sdwan_link_jitter_seconds_bucket", jitter.merging(["le": "0.05"]) { $1 }) != nil
                    )
                }
            }
            #expect(metrics.value("sdwan_tunnel_handshakes_total", ["peer": "store0"]) == 1)
            if let verdict = PrometheusText.pythonParserVerdict(text) {
                print("hub metrics, prometheus_client: \(verdict)")
                #expect(verdict.hasPrefix("ok"))
            } else {
                print("prometheus_client not installed: parsed with the test's own parser only")
            }
        }
    }
}
