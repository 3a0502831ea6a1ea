import Foundation
import SDWANConfig
import SDWANCore
import SDWANSimulator

/// The simulator's speed on the retail branch (issue 8 goal: ≥ 1 M simulated packets per wall
/// second per core, one simulated hour in ≤ 60 s): four calls, 2 Mbit/s of video down and a
/// 20 Mbit/s bulk upload, the real engine with the null cipher, one thread.
/// `SDWAN_BENCH_SIM_SECONDS` sets the simulated span (default 60 s; 3600 for the full hour).
let simulatorBenchmark = Benchmark(
    name: "simulator",
    summary: "retail-branch: voice + video + 20 Mbit/s bulk through the real engine in virtual time"
) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let seconds = Int64(ProcessInfo.processInfo.environment["SDWAN_BENCH_SIM_SECONDS"] ?? "") ?? 60
    let topology: Topology
    do {
        topology = try Topology.load(path: root.appendingPathComponent("topologies/retail-branch.yaml").path)
    } catch {
        print("cannot load the topology: \(error)")
        return
    }
    let scenario = Scenario(
        name: "retail-branch-bench",
        topology: topology,
        seed: 1,
        duration: .seconds(seconds),
        traffic: [
            TrafficFlowSpec(kind: .voice(calls: 4, packetSize: 200), dscp: DSCP.ef),
            TrafficFlowSpec(
                kind: .video(bitsPerSecond: 2_000_000, packetSize: 1_200),
                direction: .down,
                dscp: DSCP.af41
            ),
            TrafficFlowSpec(
                kind: .bulk(flows: 1, bitsPerSecond: 20_000_000, packetSize: 1_300, maxWindow: 1_000),
                direction: .up,
                dscp: DSCP.af11,
                ipProtocol: 6,
                port: 445
            ),
        ]
    )
    for nullCipher in [true, false] {
        let s = Simulator.run(scenario, nullCipher: nullCipher)
        let perSecond = s.simulatedPacketsPerWallSecond
        let hour = 3_600 / s.simulatedSeconds * s.wallSeconds
        let crypto = nullCipher ? "null cipher" : "ChaCha20-Poly1305"
        print(
            "\(crypto): \(s.simulatedPackets) packets in \(Int(s.simulatedSeconds)) s simulated, \(round(s.wallSeconds * 100) / 100) s wall: "
                + "\(Int(perSecond)) simulated packets per wall second on one core (goal ≥ 1 000 000); "
                + "one simulated hour ≈ \(Int(hour)) s wall (goal ≤ 60)"
        )
    }
}
