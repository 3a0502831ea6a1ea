import SDWANCore
import Testing

@Suite struct RTTEstimatorTests {
    /// RFC 6298 §2: first sample R: SRTT = R, RTTVAR = R/2. Then RTTVAR uses the *old* SRTT:
    /// samples 100, 200 ms → RTTVAR = 3/4·50 + 1/4·|100 − 200| = 62.5 ms (59.375 with the new SRTT),
    /// SRTT = 7/8·100 + 1/8·200 = 112.5 ms.
    @Test func rttvarIsUpdatedWithTheOldSmoothedRTT() {
        var rtt = RTTEstimator()
        rtt.add(.milliseconds(100))
        #expect(rtt.smoothed == .milliseconds(100) && rtt.variation == .milliseconds(50))
        rtt.add(.milliseconds(200))
        #expect(rtt.variation == .microseconds(62_500))
        #expect(rtt.smoothed == .microseconds(112_500))
    }

    /// Nearest-rank percentiles over the window; the window slides.
    @Test func percentilesAndMinimumOverTheWindow() {
        var rtt = RTTEstimator(windowSize: 100)
        for ms in 1...100 { rtt.add(.milliseconds(Int64(ms))) }
        #expect(rtt.minimum == .milliseconds(1))
        #expect(rtt.percentile(0.5) == .milliseconds(50))
        #expect(rtt.percentile(0.9) == .milliseconds(90))
        #expect(rtt.percentile(0.99) == .milliseconds(99))
        for _ in 0..<100 { rtt.add(.milliseconds(500)) }
        #expect(rtt.minimum == .milliseconds(500))
    }
}
