import NIOCore
import SDWANCore
import SDWANLinkModel
import Testing

/// PROBE, PROBE_REPLY and RECEIVER_REPORT: byte layouts (docs/wire-format.md §5.1–5.2) and the
/// rule that malformed, forged and replayed frames are dropped, counted and never trusted.
@Suite struct MonitorFrameTests {
    static func at(_ ms: Int64) -> Instant { .zero + .milliseconds(ms) }

    /// The drop reason of a report's handling, `nil` when accepted.
    static func reason(_ result: Result<Void, MonitorDropReason>) -> MonitorDropReason? {
        if case .failure(let reason) = result { return reason }
        return nil
    }

    /// The bodies of the frames in `buffer`, in order.
    static func bodies(_ buffer: ByteBuffer) -> [(FrameType, ByteBuffer)] {
        var reader = FrameReader(buffer)
        var out: [(FrameType, ByteBuffer)] = []
        while case .success(let frame)? = reader.next() { out.append((frame.type, frame.body)) }
        return out
    }

    static func body(of probe: ProbeFrame, _ type: FrameType = .probe) -> ByteBuffer {
        var buffer = ByteBuffer()
        probe.write(type, to: &buffer)
        return bodies(buffer)[0].1
    }

    static func body(of report: ReceiverReportFrame) -> ByteBuffer {
        var buffer = ByteBuffer()
        report.write(to: &buffer)
        return bodies(buffer)[0].1
    }

    @Test func probeAndReplyHaveTheSameSizeAndRoundTrip() {
        let request = ProbeFrame(sequence: 7, senderTime: 0x0102_0304_0506_0708)
        let reply = ProbeFrame(
            sequence: 7,
            senderTime: 0x0102_0304_0506_0708,
            reflectorReceiveTime: 9,
            reflectorSendTime: 10
        )
        var a = ByteBuffer()
        request.write(.probe, to: &a)
        var b = ByteBuffer()
        reply.write(.probeReply, to: &b)
        #expect(a.readableBytes == b.readableBytes && a.readableBytes == 3 + 32)
        #expect(Array(a.readableBytesView.prefix(3)) == [0x02, 0x00, 0x20])
        #expect(ProbeFrame.parse(Self.body(of: reply, .probeReply)) == reply)
        let report = ReceiverReportFrame(
            sequence: 1,
            highestCounter: 2,
            echoedTimestamp: WireTimestamp(microseconds: 3),
            holdMicroseconds: 4,
            received: 5,
            lost: 6,
            jitterMicroseconds: 7,
            pdvP99Microseconds: 8
        )
        var c = ByteBuffer()
        report.write(to: &c)
        #expect(c.readableBytes == 3 + 44)
        #expect(ReceiverReportFrame.parse(Self.body(of: report)) == report)
    }

    /// Accepts exactly the body length, rejects one byte less or more, and a non-zero reserved word.
    @Test func parsersAcceptExactLengthOnly() {
        let probe = Self.body(of: ProbeFrame(sequence: 1, senderTime: 2))
        #expect(ProbeFrame.parse(probe) != nil)
        #expect(ProbeFrame.parse(probe.getSlice(at: probe.readerIndex, length: 31)!) == nil)
        var longer = probe
        longer.writeInteger(UInt8(0))
        #expect(ProbeFrame.parse(longer) == nil)
        var reserved = probe
        reserved.setInteger(UInt8(1), at: reserved.readerIndex + 7)
        #expect(ProbeFrame.parse(reserved) == nil)
        let report = Self.body(
            of: ReceiverReportFrame(
                sequence: 0,
                highestCounter: 0,
                echoedTimestamp: WireTimestamp(microseconds: 0),
                holdMicroseconds: 0,
                received: 0,
                lost: 0,
                jitterMicroseconds: 0,
                pdvP99Microseconds: 0
            )
        )
        #expect(ReceiverReportFrame.parse(report) != nil)
        #expect(ReceiverReportFrame.parse(report.getSlice(at: report.readerIndex, length: 43)!) == nil)
        var longReport = report
        longReport.writeInteger(UInt8(0))
        #expect(ReceiverReportFrame.parse(longReport) == nil)
    }

    @Test func malformedForgedAndReplayedProbesAreDroppedAndCounted() throws {
        var random = SeededRandomSource(seed: 1)
        var edge = PathMonitor(now: .zero)
        var hub = PathMonitor(now: .zero)
        var packet = ByteBuffer()
        #expect(edge.pollFrame(now: .zero, into: &packet, using: &random) == .probe)
        let probe = Self.bodies(packet)[0].1

        // Malformed: every shorter length, and a request carrying reflector times.
        for length in 0..<ProbeFrame.bodyLength {
            let result = hub.handleProbe(probe.getSlice(at: probe.readerIndex, length: length)!, now: Self.at(20))
            #expect(result == .failure(.malformed))
        }
        #expect(hub.dropCount(.malformed) == ProbeFrame.bodyLength)
        let withTimes = Self.body(of: ProbeFrame(sequence: 0, senderTime: 0, reflectorReceiveTime: 1))
        #expect(hub.handleProbe(withTimes, now: Self.at(20)) == .failure(.probeWithReflectorTimes))

        // The genuine probe is answered once; its replay is refused.
        let reply = try hub.handleProbe(probe, now: Self.at(20)).get()
        #expect(reply.reflectorReceiveTime == 20_000_000 && reply.reflectorSendTime == 20_000_000)
        #expect(hub.handleProbe(probe, now: Self.at(21)) == .failure(.replayedProbe))
        #expect(hub.dropCount(.replayedProbe) == 1)

        // Forged replies: a sequence never sent, or our own probe with T1 altered.
        let replyBody = Self.body(of: reply, .probeReply)
        var forgedSequence = reply
        forgedSequence.sequence = 5
        #expect(
            edge.handleProbeReply(Self.body(of: forgedSequence, .probeReply), now: Self.at(40))
                == .failure(.unmatchedReply)
        )
        var forgedTime = reply
        forgedTime.senderTime += 1
        #expect(
            edge.handleProbeReply(Self.body(of: forgedTime, .probeReply), now: Self.at(40)) == .failure(.unmatchedReply)
        )
        // A hold time longer than the round trip, or T3 before T2.
        var longHold = reply
        longHold.reflectorSendTime += 50_000_000
        #expect(
            edge.handleProbeReply(Self.body(of: longHold, .probeReply), now: Self.at(40)) == .failure(.implausibleTimes)
        )
        var backwards = reply
        backwards.reflectorSendTime -= 1
        #expect(
            edge.handleProbeReply(Self.body(of: backwards, .probeReply), now: Self.at(40))
                == .failure(.implausibleTimes)
        )
        #expect(edge.quality.smoothedRTT == nil, "nothing refused was trusted")

        // The genuine reply: RTT 40 ms; its replay is refused and changes nothing.
        #expect(edge.handleProbeReply(replyBody, now: Self.at(40)) == .success(.milliseconds(40)))
        #expect(edge.handleProbeReply(replyBody, now: Self.at(90)) == .failure(.unmatchedReply))
        #expect(edge.quality.smoothedRTT == .milliseconds(40))
        #expect(edge.dropCount(.unmatchedReply) == 3 && edge.dropCount(.implausibleTimes) == 2)
    }

    @Test func malformedForgedAndReplayedReportsAreDroppedAndCounted() {
        var edge = PathMonitor(now: .zero)
        for counter in 0..<10 { edge.handlePacketSent(linkCounter: UInt64(counter), now: Self.at(Int64(counter))) }
        func report(
            sequence: UInt32,
            highest: UInt64,
            echo: Instant,
            hold: UInt32,
            received: UInt64,
            lost: UInt64
        )
            -> ByteBuffer
        {
            Self.body(
                of: ReceiverReportFrame(
                    sequence: sequence,
                    highestCounter: highest,
                    echoedTimestamp: WireTimestamp(echo),
                    holdMicroseconds: hold,
                    received: received,
                    lost: lost,
                    jitterMicroseconds: 100,
                    pdvP99Microseconds: 200
                )
            )
        }
        let now = Self.at(50)
        let genuine = report(sequence: 3, highest: 5, echo: Self.at(5), hold: 5_000, received: 5, lost: 1)
        #expect(
            Self.reason(edge.handleReceiverReport(genuine.getSlice(at: genuine.readerIndex, length: 43)!, now: now))
                == .malformed
        )
        // Acknowledges a counter never sent.
        let unsent = report(sequence: 3, highest: 50, echo: Self.at(5), hold: 0, received: 5, lost: 1)
        #expect(Self.reason(edge.handleReceiverReport(unsent, now: now)) == .inconsistentReport)
        // Echoes a timestamp from our future, or a hold longer than the echo's age.
        let future = report(sequence: 3, highest: 5, echo: Self.at(60), hold: 0, received: 5, lost: 1)
        #expect(Self.reason(edge.handleReceiverReport(future, now: now)) == .implausibleTimes)
        let hold = report(sequence: 3, highest: 5, echo: Self.at(5), hold: 46_000, received: 5, lost: 1)
        #expect(Self.reason(edge.handleReceiverReport(hold, now: now)) == .implausibleTimes)
        #expect(edge.quality.forward.lastAlive == nil && edge.quality.smoothedRTT == nil)

        // The genuine one: RTT = 50 − 5 − 5 = 40 ms; forward alive at the echo's send time.
        #expect(Self.reason(edge.handleReceiverReport(genuine, now: now)) == nil)
        #expect(edge.quality.smoothedRTT == .milliseconds(40))
        #expect(edge.quality.forward.lastAlive == Self.at(5) && edge.quality.forward.cumulativeLost == 1)
        // Replayed (same or older sequence), then shrinking counts.
        #expect(Self.reason(edge.handleReceiverReport(genuine, now: Self.at(60))) == .replayedReport)
        let older = report(sequence: 2, highest: 6, echo: Self.at(6), hold: 0, received: 6, lost: 1)
        #expect(Self.reason(edge.handleReceiverReport(older, now: Self.at(60))) == .replayedReport)
        let shrinking = report(sequence: 4, highest: 6, echo: Self.at(6), hold: 0, received: 6, lost: 0)
        #expect(Self.reason(edge.handleReceiverReport(shrinking, now: Self.at(60))) == .inconsistentReport)
        #expect(edge.quality.forward.cumulativeLost == 1 && edge.quality.forward.cumulativeReceived == 5)
        #expect(edge.dropCount(.replayedReport) == 2 && edge.dropCount(.inconsistentReport) == 2)
        #expect(edge.dropCount(.malformed) == 1 && edge.dropCount(.implausibleTimes) == 2)
    }
}

/// `PathMonitor.hasFrameDue(now:)` lets the engine skip building a monitor packet: it must never
/// say `false` when `pollFrame` would write something (probes, reports riding on probes, reports
/// after data), on a lossy link with data both ways and on an idle one. (It may say `true` and
/// `pollFrame` write nothing: a postponed or suppressed probe.)
@Suite struct FrameDueTests {
    @Test(arguments: [0, 50] as [Int64])
    func hasFrameDueAgreesWithPollFrame(dataRate: Int64) {
        var pair = MonitorPair(
            seed: 11,
            edgeToHub: .init(
                delay: .milliseconds(20),
                loss: LossProcess(model: .bernoulli(p: 0.02)),
                dataRate: dataRate
            ),
            hubToEdge: .init(
                delay: .milliseconds(25),
                loss: LossProcess(model: .bernoulli(p: 0.02)),
                dataRate: dataRate
            )
        )
        pair.run(until: .zero + .seconds(30))
        // 30 s, two sides, a probe every ≤ 100 ms when idle or a report every 50 ms with data:
        // ≥ 600 drains write frames; 300 leaves room for the 2 % loss.
        #expect(pair.drainsWithFrames > 300)
        #expect(pair.frameDueMisses == 0)
    }
}
