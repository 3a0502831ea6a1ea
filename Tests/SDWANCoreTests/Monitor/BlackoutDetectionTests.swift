import SDWANCore
import SDWANLinkModel
import Testing

/// Liveness: a silent direction is declared down within the detection window, and a healthy lossy
/// link is not (docs/path-selection.md, "Liveness"). Both tests use exactly the default detector:
/// I = 100 ms, M = 3, W = max(M·I, 100 ms + 4·SRTT) = 300 ms at SRTT 40 ms, report interval 50 ms.
@Suite struct BlackoutDetectionTests {
    static let oneWay = TimeSpan.milliseconds(20)
    static let configuration = PathMonitorConfiguration()
    /// Busy = a voice call: 50 packets/s in each direction (G.711, 20 ms packetisation).
    static let busyRate: Int64 = 50

    struct Case: Sendable, CustomTestStringConvertible {
        var busy: Bool
        /// The direction that goes dark: 0 edge→hub, 1 hub→edge.
        var dark: Int
        var testDescription: String { "\(busy ? "busy" : "idle"), \(dark == 0 ? "edge→hub" : "hub→edge") dark" }
    }

    static let cases = [false, true].flatMap { busy in [0, 1].map { Case(busy: busy, dark: $0) } }

    /// One-way blackout of `dark` at t0 (20 start phases per case). With I = 100 ms and M = 3:
    /// - the receiver of the dark direction last heard a packet sent in [t0 − I, t0) (every sender
    ///   emits a probe or data at most I apart), arriving one-way delay later, and declares down
    ///   W after it: within [(M−1)·I + OWD, M·I + OWD]. Margin: the one-way delay.
    /// - the sender learns of it only from what comes back: the newest packet the peer acknowledged
    ///   was sent in [t0 − I, t0), and the forward window is W + report interval + SRTT, so down
    ///   within [(M−1)·I, M·I + report interval + SRTT]. Margin: one report interval plus an RTT.
    /// Both recover to `up` after the blackout ends.
    @Test(arguments: cases)
    func blackoutDetectedWithinWindow(_ c: Case) throws {
        let interval = Self.configuration.probes.interval
        let m = Self.configuration.missedIntervals
        var receiverDelays: [Double] = []
        var senderDelays: [Double] = []
        defer {
            print(
                "blackout \(c.testDescription): receiver down after \(receiverDelays.min()!)–\(receiverDelays.max()!) ms,",
                "sender after \(senderDelays.min()!)–\(senderDelays.max()!) ms"
            )
        }
        for phase in 0..<20 {
            let rate = c.busy ? Self.busyRate : 0
            var pair = MonitorPair(
                seed: UInt64(100 + phase),
                configuration: Self.configuration,
                edgeToHub: .init(delay: Self.oneWay, dataRate: rate),
                hubToEdge: .init(delay: Self.oneWay, dataRate: rate)
            )
            let t0 = Instant.zero + .seconds(10) + .milliseconds(Int64(phase) * 37)
            pair.run(until: t0)
            #expect(pair.edge.status == .up && pair.hub.status == .up)
            let sender = c.dark
            let receiver = 1 - c.dark
            let window = pair.monitors[receiver].detectionWindow
            #expect(window == interval * m, "M·I dominates base + N·SRTT at this RTT")
            let forwardWindow = pair.monitors[sender].forwardDetectionWindow
            let end = t0 + .seconds(3)
            pair.directions[c.dark].blackouts = [t0..<end]
            pair.run(until: end)

            let receiverDown = try #require(pair.events[receiver].first { $0.now >= t0 && $0.to == .down })
            // Its forward evidence travels on the dark direction too, so it may see its forward
            // window expire first; either way it is down within the reverse bound.
            #expect([.reverseSilent, .bothSilent, .forwardSilent].contains(receiverDown.reason))
            let receiverDelay = receiverDown.now - t0
            receiverDelays.append(receiverDelay.milliseconds)
            #expect(receiverDelay >= interval * (m - 1) + Self.oneWay && receiverDelay <= interval * m + Self.oneWay)

            let senderDown = try #require(pair.events[sender].first { $0.now >= t0 && $0.to == .down })
            #expect(senderDown.reason == .forwardSilent)
            let senderDelay = senderDown.now - t0
            senderDelays.append(senderDelay.milliseconds)
            let margin = forwardWindow - window
            #expect(senderDelay >= interval * (m - 1) && senderDelay <= interval * m + margin)

            // Recovery: out of `down` after the run of good evaluations (20 × 100 ms) once proof of
            // life returns, and `up`: what the blackout swallowed is an outage, not loss, so no loss
            // window holds it (BlackoutRecoveryTests bounds the time).
            pair.run(until: end + .seconds(4))
            #expect(pair.edge.status == .up && pair.hub.status == .up)
        }
    }

    struct LossCase: Sendable, CustomTestStringConvertible {
        var busy: Bool
        var bursty: Bool
        var testDescription: String { "\(busy ? "busy" : "idle"), \(bursty ? "Gilbert 2 % burst 3" : "Bernoulli 2 %")" }
    }

    static let lossCases = [false, true].flatMap { busy in [false, true].map { LossCase(busy: busy, bursty: $0) } }

    /// The Gilbert chain's clock for the bursty case: one step per 5 ms of time (bursts last a mean
    /// of 15 ms whatever the packet rate, as queue-overflow episodes do).
    static let burstClock = LossClock.perInterval(.milliseconds(5))

    /// No false blackout in 72 virtual hours at 2 % loss in both directions, idle and busy: zero
    /// events in T = 72 h bounds the rate at 3/T = 1 per day with 95 % confidence (REFERENCE.md).
    ///
    /// Expected counts (docs/path-selection.md, "False alarms"): a direction is declared silent only
    /// if every packet in a W = 300 ms stretch is lost.
    /// - Bernoulli 2 %, idle: the peer's probes and replies arrive ~23/s, ~7 per 300 ms (never fewer
    ///   than 4: probes and replies are each ≤ 100 ms apart). 2·10⁶ packets/day × 0.02⁶ ≈ 10⁻⁴ false
    ///   downs a day per direction (worst case, 4 packets: 1.15·10⁶ windows × 0.02⁴ ≈ 0.2 a day).
    ///   The forward direction needs a probe and its reply, or a report, to survive: similar.
    /// - Bernoulli 2 %, busy: ≥ 15 data packets per 300 ms: 0.02¹⁵ ≈ 0.
    /// - Gilbert 2 %, mean burst 3 steps of 5 ms (p = 0.0068, r = 1/3 per step): a blackout of
    ///   ≥ 250 ms needs ≥ 50 Bad steps in a row, probability (2/3)⁴⁹ ≈ 2.4·10⁻⁹ per burst, and
    ///   1.7·10⁷ steps/day × p ≈ 1.2·10⁵ bursts a day: 3·10⁻⁴ false downs a day.
    /// So the chance of one or more in 72 h is ≤ 10⁻³ (≤ 0.5 under the idle worst case bound).
    @Test(arguments: lossCases)
    func noFalseBlackoutsIn72Hours(_ c: LossCase) {
        let model: LossModel =
            c.bursty ? .gilbert(lossRatio: 0.02, meanBurst: 3, clock: Self.burstClock) : .bernoulli(p: 0.02)
        let rate = c.busy ? Self.busyRate : 0
        var pair = MonitorPair(
            seed: c.bursty ? 7 : 8,
            configuration: Self.configuration,
            edgeToHub: .init(delay: Self.oneWay, loss: LossProcess(model: model), dataRate: rate),
            hubToEdge: .init(delay: Self.oneWay, loss: LossProcess(model: model), dataRate: rate)
        )
        pair.run(until: .zero + .seconds(72 * 3600))
        let downs = pair.events.joined().filter { $0.to == .down }
        print(
            "72 h \(c.testDescription): \(pair.directions[0].sent + pair.directions[1].sent) packets,",
            "\(pair.directions[0].dropped + pair.directions[1].dropped) lost, \(downs.count) false downs"
        )
        #expect(downs.isEmpty, "false blackouts: \(downs)")
        // The loss really was there: each direction lost 2 % within 5 binomial SE (inflated by the
        // chain's variance factor on the bursty link, bounded here by 10).
        for direction in pair.directions {
            let n = Double(direction.sent)
            let ratio = Double(direction.dropped) / n
            #expect(abs(ratio - 0.02) < 5 * (10 * 0.02 * 0.98 / n).squareRoot())
        }
    }
}
