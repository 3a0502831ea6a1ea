import NIOCore

extension TunnelEngine {
    /// Bytes in front of the DATA frame body: transport header (16) + timestamp (4) + frame header (3).
    static let frameStart = WireFormat.transportHeaderLength + WireFormat.timestampLength + WireFormat.frameHeaderLength

    /// Headroom the I/O ring should leave in front of an inner packet (reader index ≥ this) and
    /// tailroom after it (≥ 16 bytes): the engine then builds the datagram in the packet's own
    /// buffer and allocates nothing.
    public static let headroom = frameStart + DataFrameHeader.maximumLength
    public static let tailroom = WireFormat.tagLength

    /// An inner IP packet from the local side (LAN on the edge, data centre on the hub): classify,
    /// check its size, clamp a SYN's MSS, and send it on its class's links (or hold it).
    /// Pass the packet's last reference (`consume`) to let the engine build the datagram in place.
    public func handleInnerPacket(_ packet: consuming ByteBuffer, now: Instant) {
        inputArrived()
        let (classIndex, header) = classifier.classify(packet)
        sendInner(consume packet, classIndex: classIndex, dscp: header?.dscp ?? 0, header: header, now: now)
        flush(now: now, monitors: false)
    }

    /// An inner packet whose IP header the caller parsed already (the hub, to route it): the
    /// same as `handleInnerPacket(_:now:)` without parsing it again.
    func handleInnerPacket(_ packet: consuming ByteBuffer, header: InnerPacketHeader, now: Instant) {
        inputArrived()
        let classIndex = classifier.classify(header)
        sendInner(consume packet, classIndex: classIndex, dscp: header.dscp, header: header, now: now)
        flush(now: now, monitors: false)
    }

    /// A payload without an IP header (a UDP port forward names its class), sent as is.
    public func handleInnerPacket(_ packet: consuming ByteBuffer, classIndex: Int, now: Instant) {
        inputArrived()
        precondition(classes.indices.contains(classIndex), "class index out of range")
        sendInner(consume packet, classIndex: classIndex, dscp: 0, header: nil, now: now)
        flush(now: now, monitors: false)
    }

    func sendInner(
        _ packet: consuming ByteBuffer,
        classIndex c: Int,
        dscp: UInt8,
        header: InnerPacketHeader?,
        now: Instant
    ) {
        guard packet.readableBytes <= innerMTU else {
            count(.oversize)
            answerTooBig(packet, now: now)
            return
        }
        if configuration.clampMSS, header?.transportProtocol == 6 { MSSClamp.clamp(&packet, mtu: innerMTU) }
        classes[c].counters.sent &+= 1
        classes[c].counters.payloadBytes &+= UInt64(packet.readableBytes)
        // The class's links are read where they are kept, not copied out (a copy of the choice
        // retained and released its array for every packet).
        guard isEstablished, !classes[c].selector.choice.links.isEmpty else {
            hold(packet, classIndex: c, dscp: dscp, now: now)
            return
        }
        transmitData(consume packet, classIndex: c, dscp: dscp, header: header, now: now)
    }

    /// Builds the DATA frame once and queues a copy on each link of the class's path choice (read in
    /// place; the caller checked it names a link); feeds the class's FEC.
    func transmitData(
        _ packet: consuming ByteBuffer,
        classIndex c: Int,
        dscp: UInt8,
        header inner: InnerPacketHeader?,
        now: Instant
    ) {
        // The class's timers change here only through its encoder (`drainParity` after `protect`
        // marks the class's deadline stale); an unprotected packet leaves them alone.
        let sequence = nextTunnelSequence
        nextTunnelSequence &+= 1
        let cls = classes.address(of: c)  // bounds checked once (`ComponentTable.address(of:)`)
        // `balance` over several links: one copy, on the link of earliest expected delivery, with
        // the flow's sequence so the receiver can restore the flow's order (docs/path-selection.md).
        var flow: DataMemberHeader.Flow?
        // One link for a striped packet (kept apart from `choice.links` so no array is built).
        var single: Int?
        if cls.pointee.isBalance && cls.pointee.selector.choice.links.count > 1 {
            let bucket = flowBuckets.bucket(of: inner)
            if cls.pointee.flowSequences.isEmpty {
                cls.pointee.flowSequences = [UInt32](repeating: 0, count: FlowReorder.flowBuckets)
            }
            flow = .init(id: bucket, sequence: cls.pointee.flowSequences[Int(bucket)])
            cls.pointee.flowSequences[Int(bucket)] &+= 1
            single = earliestDelivery(cls.pointee.selector.choice.links, size: packet.readableBytes)
        }
        // A member longer than the encoder was sized for (the hub learned larger link MTUs) goes
        // unprotected rather than trap.
        let memberLength = DataMemberHeader.maximumLength + packet.readableBytes
        let protected = cls.pointee.protects(memberLength: memberLength)
        var header = DataFrameHeader(
            classID: UInt8(c),
            fecSequence: protected ? 0 : nil,
            member: DataMemberHeader(tunnelSequence: sequence, flow: flow)
        )
        let prefix = Self.frameStart + header.encodedLength
        let innerLength = packet.readableBytes
        var buffer: ByteBuffer
        if packet.readerIndex >= prefix && packet.capacity - packet.writerIndex >= WireFormat.tagLength {
            // The I/O ring left headroom in front of the packet (`TunnelEngine.headroom`): build the
            // datagram around it in place, no allocation, no copy.
            buffer = consume packet
            let start = buffer.readerIndex - prefix
            buffer.moveReaderIndex(to: start)
            buffer.setFields(at: start, length: Self.frameStart) { w in
                w.zero(WireFormat.transportHeaderLength + WireFormat.timestampLength)
                w.put(FrameType.data.rawValue)
                w.put(UInt16(header.encodedLength + innerLength))
            }
            header.set(into: &buffer, at: start + Self.frameStart)
        } else {
            buffer = ByteBufferAllocator().buffer(capacity: prefix + packet.readableBytes + WireFormat.tagLength)
            buffer.writeRepeatingByte(0, count: WireFormat.transportHeaderLength + WireFormat.timestampLength)
            buffer.writeFrame(.data) { body in
                header.write(to: &body)
                // A raw-pointer copy: NIO's generic buffer-to-buffer path costs more than the memcpy.
                packet.withUnsafeReadableBytes { _ = body.writeBytes($0) }
            }
        }
        if protected {
            // The member (everything after the FEC sequence) is protected as written.
            let memberStart = Self.frameStart + header.memberOffset
            let fecSequence = buffer.withUnsafeReadableBytes { raw in
                cls.pointee.encoder!.protect(UnsafeRawBufferPointer(rebasing: raw[memberStart...]), now: now)
            }
            header.fecSequence = fecSequence
            buffer.setInteger(fecSequence, at: buffer.readerIndex + Self.frameStart + 2)
        }
        let outerDSCP = cls.pointee.outerDSCP ?? dscp
        if cls.pointee.selector.choice.reason == .leastBad { cls.pointee.counters.sentOffSLA &+= 1 }
        if let single {
            enqueue(QueuedPacket(payload: consume buffer, classIndex: c, dscp: outerDSCP), onLink: single, now: now)
        } else {
            // The last link takes the buffer itself: a packet may leave at once (`enqueue`), and a
            // reference still held here would make its timestamp write copy the whole buffer.
            let last = cls.pointee.selector.choice.links.count - 1
            for k in 0..<last {
                // The other links get copies of their own, sized to the datagram: with a shared
                // buffer, `send`'s timestamp write copied it through NIO with its whole storage
                // capacity (over 1 500 bytes for the simulator's pooled packets; a voice packet
                // fills ~250 of them).
                var copy = ByteBufferAllocator().buffer(capacity: buffer.readableBytes + WireFormat.tagLength)
                buffer.withUnsafeReadableBytes { _ = copy.writeBytes($0) }
                enqueue(
                    QueuedPacket(payload: consume copy, classIndex: c, dscp: outerDSCP),
                    onLink: cls.pointee.selector.choice.links[k],
                    now: now
                )
            }
            enqueue(
                QueuedPacket(payload: consume buffer, classIndex: c, dscp: outerDSCP),
                onLink: cls.pointee.selector.choice.links[last],
                now: now
            )
        }
        if protected { drainParity(c, now: now) }
    }

    /// ECF/BLEST's rule: the link where a packet of `size` bytes would arrive first, given each
    /// link's one-way delay, shaped rate and the bytes already queued in its shaper (a slower link
    /// gets a packet only if it would arrive no later than on the faster one). A link without a
    /// shaped rate counts as 1 Gbit/s.
    func earliestDelivery(_ candidates: [Int], size: Int) -> Int {
        var best = candidates[0]
        var bestArrival = Int64.max
        for i in candidates {
            let rate =
                links[i].shaper.configuration.rateBitsPerSecond > 0
                ? links[i].shaper.configuration.rateBitsPerSecond : 1_000_000_000
            let bytes = Int64(links[i].shaper.backlogBytes + size + links[i].configuration.outerHeaderLength)
            let arrival = links[i].oneWay.nanoseconds + bytes * 8 * 1_000_000_000 / rate
            if arrival < bestArrival {
                best = i
                bestArrival = arrival
            }
        }
        return best
    }

    /// Queues a packet in a link's shaper at its class's priority, or sends it at once when the
    /// shaper would let it go at once (nothing queued, tokens enough): the queue is skipped, not
    /// the shaping (most packets meet an empty shaper; their trip through its queue was 1.4 % of a
    /// simulation's instructions).
    func enqueue(_ item: consuming QueuedPacket, onLink i: Int, now: Instant) {
        let size = item.payload.readableBytes + WireFormat.tagLength + links[i].configuration.outerHeaderLength
        let priority = classes[item.classIndex].priority
        touchLink(i)
        if links[i].shaper.leavesAtOnce(size: size, priority: priority, now: now) {
            let (classIndex, dscp) = (item.classIndex, item.dscp)
            send((consume item).payload, onLink: i, classIndex: classIndex, dscp: dscp, now: now)
            return
        }
        if !links[i].shaper.enqueue(consume item, size: size, priority: priority, now: now) { count(.shaperQueueFull) }
    }

    /// Sends the parity frames the class's encoder has closed, on the link chosen for the class's
    /// parity at the last re-selection (`placeParity`).
    func drainParity(_ c: Int, now: Instant) {
        touchClass(c)
        while classes[c].hasParityReady() {
            var buffer = ByteBufferAllocator().buffer(capacity: 1_500)
            buffer.writeRepeatingByte(0, count: WireFormat.transportHeaderLength + WireFormat.timestampLength)
            guard let descriptor = classes[c].encoder?.pollParity(into: &buffer) else { break }
            guard let i = classes[c].parityLink,
                descriptor.frameLength + WireFormat.transportOverhead - WireFormat.timestampLength
                    <= links[i].datagramBudget
            else {
                classes[c].counters.parityUnplaced &+= 1
                continue
            }
            enqueue(QueuedPacket(payload: buffer, classIndex: c, dscp: classes[c].outerDSCP ?? 0), onLink: i, now: now)
        }
    }

    /// Chooses the link for a class's parity (docs/fec.md "Cross-link parity", "Delay bound"):
    /// another link than the data's where one keeps a recovered packet within the class's one-way
    /// latency budget, the groups' closing time being at most the FEC delay budget.
    func placeParity(_ c: Int, candidates: [LinkCandidate]) {
        guard let policy = classes[c].fecPolicy else { return }
        let cls = classes[c].trafficClass
        let estimates = candidates.compactMap { candidate -> ParityLinkEstimate? in
            // Not on a metered link the class may not use (its data links aside: cross-link parity).
            guard candidate.status != .down, cls.permitsParity(on: candidate) else { return nil }
            return ParityLinkEstimate(
                linkID: links[candidate.index].configuration.id,
                oneWayDelay: candidate.measurement.rtt / 2,
                lossRatio: candidate.measurement.lossRatio,
                frameBudget: links[candidate.index].datagramBudget - WireFormat.transportOverhead,
                meetsLatencySLA: cls.sla.isMet(by: candidate.measurement, current: true)
            )
        }
        let decision = ParityPlacement.choose(
            dataLinks: classes[c].selector.choice.links.map { links[$0].configuration.id },
            links: estimates,
            groupClosingTime: policy.delayBudget,
            latencyBudget: cls.sla.maxRTT.map { $0 / 2 } ?? .seconds(1),
            parityFrameLength: ParityFrame.frameLength(longestMember: innerMTU + DataMemberHeader.maximumLength)
        )
        if case .link(let id, _) = decision { classes[c].parityLink = slot(id) } else { classes[c].parityLink = nil }
    }

    // MARK: Hold queue

    /// No link (or no keys) for the class: wait in a short bounded queue, oldest dropped first.
    func hold(_ packet: ByteBuffer, classIndex c: Int, dscp: UInt8, now: Instant) {
        touchClass(c)
        let policy = classes[c].trafficClass.hold
        classes[c].counters.held &+= 1
        if classes[c].hold.count >= policy.maxPackets {
            classes[c].hold.removeFirst()
            classes[c].counters.holdDropped &+= 1
            count(.holdQueueFull)
        }
        classes[c].hold.append((packet, dscp, now))
    }

    func expireHold(_ c: Int, now: Instant) {
        touchClass(c)
        let wait = classes[c].trafficClass.hold.maxWait
        while let first = classes[c].hold.first, now - first.since >= wait {
            classes[c].hold.removeFirst()
            classes[c].counters.holdDropped &+= 1
            count(.holdExpired)
        }
    }

    /// Sends what waited, once keys and a link are there.
    func releaseHeld(now: Instant) {
        guard isEstablished else { return }
        touchAllClasses()
        for c in classes.indices where !classes[c].hold.isEmpty {
            guard !classes[c].selector.choice.links.isEmpty else { continue }
            expireHold(c, now: now)
            while let item = classes[c].hold.popFirst() {
                let header = InnerPacketHeader.parse(item.packet)
                transmitData(item.packet, classIndex: c, dscp: item.dscp, header: header, now: now)
            }
        }
    }

    // MARK: Leaving the links

    /// Moves what each link's shaper lets go into the transmit queue (sealed), then sends the
    /// monitor's probes and reports that did not ride on data.
    /// `monitors`: also ask every link's monitor for due probes and reports — after timeouts and
    /// received packets; the per-packet send path skips it (frames that are due then ride on data,
    /// and the monitors' deadlines wake `handleTimeout` for the rest).
    func flush(now: Instant, monitors: Bool = true) {
        for i in links.indices {
            let link = links.address(of: i)  // bounds checked once (`ComponentTable.address(of:)`)
            // Most shapers are empty most of the time, and a backlogged one mostly waits for
            // tokens: ask only the others (a dequeue then would change nothing).
            if link.pointee.shaper.mayDequeue(now: now) {
                touchLink(i)
                while let (item, _) = link.pointee.shaper.dequeue(now: now) {
                    // The queue gave up its reference and `consume` moves the payload out of the
                    // item (a copy alive while the seal ran made it copy the buffer), so sealing in
                    // place copies nothing and `send` moves it on into the transmit queue.
                    let (classIndex, dscp) = (item.classIndex, item.dscp)
                    send((consume item).payload, onLink: i, classIndex: classIndex, dscp: dscp, now: now)
                }
            }
            // `sendMonitorFrames`, with the link's address at hand.
            if monitors && link.pointee.monitor.hasFrameDue(now: now) {
                writeMonitorFrames(onLink: i, now: now, reply: nil)
            }
        }
    }

    /// Writes the timestamp, lets monitor frames ride when there is room, seals and queues (the
    /// buffer moves into the transmit queue: pass its last reference).
    func send(_ payload: consuming ByteBuffer, onLink i: Int, classIndex: Int?, dscp: UInt8, now: Instant) {
        let link = links.address(of: i)  // bounds checked once (`ComponentTable.address(of:)`)
        guard let destination = link.pointee.destination else {
            count(.noDestination)
            return
        }
        touchLink(i)
        let timestamp = WireTimestamp(now).microseconds
        payload.setFields(
            at: payload.readerIndex + WireFormat.transportHeaderLength,
            length: WireFormat.timestampLength
        ) {
            $0.put(timestamp)
        }
        // Probe + report together need under 128 bytes; ride only where they surely fit. The
        // inlined due test first: most packets carry none, and the call passed the engine's
        // random source as an existential (projected on every call).
        if payload.readableBytes + WireFormat.tagLength + 128 <= link.pointee.datagramBudget,
            link.pointee.monitor.hasFrameDue(now: now)
        {
            while link.pointee.monitor.pollFrame(now: now, into: &payload, using: &random) != nil {}
        }
        // Through the constant, not a binding (`if let` retained and released the session).
        let result =
            if edgeSession != nil {
                edgeSession!.seal(&payload, linkID: link.pointee.configuration.id, now: now)
            } else {
                hubSession!.seal(&payload, linkID: link.pointee.configuration.id, now: now)
            }
        guard case .success(let header) = result else {
            count(.sealFailed)
            return
        }
        link.pointee.monitor.handlePacketSent(linkCounter: header.counter, now: now)
        link.pointee.packetsSent &+= 1
        link.pointee.bytesSent &+= UInt64(payload.readableBytes)
        if let classIndex {
            classes[classIndex].counters.wirePackets &+= 1
            classes[classIndex].counters.wireBytes &+= UInt64(payload.readableBytes)
        }
        transmits.append(
            Transmit(
                linkID: link.pointee.configuration.id,
                destination: destination,
                datagram: consume payload,
                dscp: dscp
            )
        )
    }

    /// Probes and reports the monitor wants now, in a packet of their own (bypassing the shaper:
    /// they are small, and queueing them behind bulk would measure our own queue, not the link).
    /// Most calls find nothing due (every flush asks every link): that test is inlined into the
    /// caller, and only the rest is a call (the early return alone cost ~80 instructions as a call).
    @inline(__always)
    func sendMonitorFrames(onLink i: Int, now: Instant, reply: ProbeFrame? = nil) {
        guard reply != nil || links[i].monitor.hasFrameDue(now: now) else { return }
        writeMonitorFrames(onLink: i, now: now, reply: reply)
    }

    /// `sendMonitorFrames` once something may be due: skips the scratch buffer when pollFrame
    /// would write nothing.
    @inline(never)
    func writeMonitorFrames(onLink i: Int, now: Instant, reply: ProbeFrame?) {
        // The cheap tests first: `isEstablished` asks the session object.
        guard links[i].destination != nil, isEstablished else { return }
        // Frames are written into a reused scratch buffer; only a packet that really leaves gets a
        // buffer of its own (most calls write nothing).
        let empty = WireFormat.transportHeaderLength + WireFormat.timestampLength
        monitorScratch.clear()
        monitorScratch.writeRepeatingByte(0, count: empty)
        reply?.write(.probeReply, to: &monitorScratch)
        touchLink(i)
        while links[i].monitor.pollFrame(now: now, into: &monitorScratch, using: &random) != nil {}
        guard monitorScratch.readableBytes > empty else { return }
        var packet = ByteBufferAllocator().buffer(capacity: monitorScratch.readableBytes + WireFormat.tagLength)
        packet.writeImmutableBuffer(monitorScratch)
        send(consume packet, onLink: i, classIndex: nil, dscp: 0, now: now)
    }

    /// The edge tells the hub about its links after each handshake (CONTROL, link announcement).
    func announceLinks(now: Instant) {
        let announcement = ControlMessage.linkAnnouncement(
            links.map { link in
                let c = link.configuration
                return LinkAnnouncement(
                    linkID: c.id,
                    name: c.name,
                    tier: UInt8(clamping: c.tier),
                    cost: UInt16(clamping: c.cost),
                    metered: c.metered,
                    mtu: UInt16(clamping: c.mtu),
                    upKbps: UInt32(clamping: c.shapedUpBitsPerSecond / 1_000),
                    downKbps: UInt32(clamping: c.shapedDownBitsPerSecond / 1_000)
                )
            }
        )
        for i in links.indices {
            var buffer = ByteBufferAllocator().buffer(capacity: 64 + 48 * links.count)
            buffer.writeRepeatingByte(0, count: WireFormat.transportHeaderLength + WireFormat.timestampLength)
            buffer.writeFrame(.control) { announcement.write(to: &$0) }
            send(consume buffer, onLink: i, classIndex: nil, dscp: 0, now: now)
        }
    }

    /// A rate-limited ICMP "too big" back toward the sender of an oversize packet.
    func answerTooBig(_ packet: ByteBuffer, now: Instant) {
        let elapsed = (now - icmpRefill).seconds
        icmpRefill = now
        let rate = Double(configuration.icmpPerSecond)
        icmpTokens = min(rate, icmpTokens + elapsed * rate)
        guard icmpTokens >= 1, let header = InnerPacketHeader.parse(packet) else { return }
        let router = header.source.isV4 ? configuration.routerAddressV4 : configuration.routerAddressV6
        guard let router, let reply = PacketTooBig.reply(to: packet, mtu: innerMTU, routerAddress: router)
        else { return }
        icmpTokens -= 1
        deliveries.append(Delivery(packet: reply, classIndex: configuration.defaultClassIndex, recovered: false))
        icmpRepliesSent &+= 1
    }
}
