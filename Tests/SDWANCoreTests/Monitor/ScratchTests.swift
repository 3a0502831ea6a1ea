import Foundation
import SDWANCore
import SDWANLinkModel
import Testing

@Suite struct ScratchTests {
    @Test func debugGilbertIdle() {
        let model = LossModel.gilbert(lossRatio: 0.02, meanBurst: 3, clock: .perInterval(.milliseconds(5)))
        var pair = MonitorPair(
            seed: 7,
            edgeToHub: .init(delay: .milliseconds(20), loss: LossProcess(model: model), keepTrace: true),
            hubToEdge: .init(delay: .milliseconds(20), loss: LossProcess(model: model), keepTrace: true)
        )
        pair.run(until: Instant.zero + .seconds(130026))
        let e = pair.events
        for side in 0..<2 { print(side, e[side].suffix(3)) }
        for ms in stride(from: 130026_300, to: 130026_900, by: 10) {
            pair.run(until: Instant.zero + .milliseconds(Int64(ms)))
            let q = pair.edge.quality
            print(
                "t",
                ms,
                "edge fwdAlive",
                q.forward.lastAlive ?? .zero,
                "hub revAlive",
                pair.hub.quality.reverse.lastAlive ?? .zero,
                "edge rev",
                q.reverse.lastAlive ?? .zero,
                "fwin",
                pair.edge.forwardDetectionWindow,
                q.forward.cumulativeReceived,
                pair.hub.quality.reverse.cumulativeReceived
            )
        }
        for side in 0..<2 { print(side, pair.events[side].suffix(2)) }
        for m in pair.monitors { print("drops", MonitorDropReason.allCases.map { m.dropCount($0) }) }
        for side in 0..<2 {
            print(
                "dir",
                side,
                pair.directions[side].trace.suffix(40).map {
                    "\(String(format: "%.3f", $0.0.seconds))\($0.1 ? "X" : "")"
                }.joined(separator: " ")
            )
        }
    }
}
