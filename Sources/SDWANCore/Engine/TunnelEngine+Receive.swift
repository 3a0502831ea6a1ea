import NIOCore

extension TunnelEngine {
    /// A datagram from the hub on one of the edge's links.
    /// Pass the datagram's last reference (`consume`): it is opened in place and its frames are
    /// read as slices of it, without a copy.
    public func handleDatagram(_ datagram: consuming ByteBuffer, linkID: UInt8, source: UDPEndpoint, now: Instant) {
        inputArrived()
        precondition(edgeSession != nil, "the hub endpoint opens datagrams and calls handleOpened")
        var buffer = datagram
        // Through the constant, not a binding (`guard let` retained and released the session).
        switch edgeSession!.handleDatagram(&buffer, linkID: linkID, now: now) {
        case .packet(let opened):
            drainSession(now: now)
            process(consume buffer, opened: opened, source: source, now: now)
        case .handshakeCompleted, .dropped:
            drainSession(now: now)
        }
        flush(now: now)
    }

    /// A transport packet the hub endpoint opened with this tunnel's keys (readable bytes:
    /// timestamp ‖ frames). Only packets that passed AEAD and the replay window get here, so the
    /// source may move this link's endpoint (a NAT rebinding).
    public func handleOpened(
        _ payload: consuming ByteBuffer,
        packet: OpenedPacket,
        source: UDPEndpoint,
        now: Instant
    ) {
        inputArrived()
        drainSession(now: now)
        process(consume payload, opened: packet, source: source, now: now)
        flush(now: now)
    }

    /// Owns `payload`: the frame reader takes it over, so no frame slice copies the buffer's
    /// reference more than once (each copy was a retain and release per packet).
    func process(_ payload: consuming ByteBuffer, opened: OpenedPacket, source: UDPEndpoint, now: Instant) {
        var buffer = payload
        let payloadBytes = buffer.readableBytes
        let i: Int
        if let known = slot(opened.linkID) {
            i = known
        } else if case .hub = keys {
            // A branch link the hub has not heard of yet: defaults until its announcement arrives.
            addLink(
                EngineLinkConfiguration(
                    id: opened.linkID,
                    name: "link\(opened.linkID)",
                    ipv6Outer: !source.address.isV4
                ),
                now: now
            )
            i = links.count - 1
        } else {
            count(.unknownLink)
            return
        }
        guard let timestamp = WireTimestamp.read(from: &buffer) else {
            count(.malformedFrame)
            return
        }
        // The whole packet is refused if any frame is malformed (wire-format.md §5).
        if FrameReader.firstError(in: buffer) != nil {
            count(.malformedFrame)
            return
        }
        touchLink(i)
        // Bounds checked once (`ComponentTable.address(of:)`); used only before the frames are
        // handled, since an announcement among them may add or remove links.
        let link = links.address(of: i)
        link.pointee.packetsReceived &+= 1
        link.pointee.bytesReceived &+= UInt64(
            payloadBytes + WireFormat.transportHeaderLength + WireFormat.tagLength
        )
        if let last = link.pointee.lastReceiverIndex, last != opened.receiverIndex {
            link.pointee.monitor.handleReceiveCounterReset()
        }
        link.pointee.lastReceiverIndex = opened.receiverIndex
        link.pointee.monitor.handlePacketReceived(counter: opened.counter, timestamp: timestamp, now: now)
        if case .hub = keys, link.pointee.destination != source {
            link.pointee.destination = source
            selectionDirty = true
            // The outer header follows the address the link is reached at: a link announced
            // before its first packet, or one that moved between IPv4 and IPv6, had the other
            // family's 20 bytes counted (and sent datagrams 20 bytes too long on IPv6).
            if link.pointee.configuration.ipv6Outer == source.address.isV4 {
                link.pointee.configuration.ipv6Outer = !source.address.isV4
                updateInnerMTU()
            }
        }
        var reader = FrameReader(consume buffer)
        var current = i
        while case .success(let frame)? = reader.next() {
            handleFrame(frame, link: current, now: now)
            // A link announcement may have removed links and renumbered the rest.
            guard let again = slot(opened.linkID) else { break }
            current = again
            touchLink(current)
        }
        if let again = slot(opened.linkID) { drainMonitorEvents(again) }
        reselect(now: now)
    }

    func handleFrame(_ frame: consuming Frame, link i: Int, now: Instant) {
        switch frame.type {
        case .data:
            receiveData((consume frame).body, now: now)
        case .parity:
            guard let classID = frame.body.getInteger(at: frame.body.readerIndex, as: UInt8.self),
                Int(classID) < classes.count, classes[Int(classID)].hasDecoder()
            else {
                count(.unknownClass)
                return
            }
            touchClass(Int(classID))
            classes[Int(classID)].decoder!.receiveParityFrame(frame.body, now: now)
            drainRecovered(Int(classID), now: now)
        case .probe:
            switch links[i].monitor.handleProbe(frame.body, now: now) {
            case .success(let reply): sendMonitorFrames(onLink: i, now: now, reply: reply)
            case .failure: count(.monitorFrame)
            }
        case .probeReply:
            if case .failure = links[i].monitor.handleProbeReply(frame.body, now: now) { count(.monitorFrame) }
        case .receiverReport:
            if case .failure = links[i].monitor.handleReceiverReport(frame.body, now: now) { count(.monitorFrame) }
        case .control:
            var body = frame.body
            switch ControlMessage.read(from: &body) {
            case .success(.linkAnnouncement(let announced)): applyAnnouncement(announced, now: now)
            case .failure: count(.malformedFrame)
            }
        case .padding:
            break
        }
    }

    func receiveData(_ frameBody: consuming ByteBuffer, now: Instant) {
        var body = frameBody
        let (frameStart, frameLength) = (body.readerIndex, body.readableBytes)
        let header: DataFrameHeader
        switch DataFrameHeader.read(from: &body) {
        case .success(let h): header = h
        case .failure:
            count(.malformedFrame)
            return
        }
        let c = Int(header.classID)
        guard c < classes.count else {
            count(.unknownClass)
            return
        }
        if let fecSequence = header.fecSequence, classes[c].hasDecoder() {
            // The decoder's timers change; a class without one has no timer a member moves.
            touchClass(c)
            // The member starts inside the header just read (NIO's `getSlice` reads only readable
            // bytes): step back to it for the slice.
            let afterHeader = body.readerIndex
            body.moveReaderIndex(to: frameStart + header.memberOffset)
            let member = body.getSlice(at: body.readerIndex, length: frameLength - header.memberOffset)!
            body.moveReaderIndex(to: afterHeader)
            switch classes[c].decoder!.receiveMember(sequence: fecSequence, payload: member, now: now) {
            case .deliver, .tooOld: break
            case .duplicate:
                classes[c].counters.duplicatesDropped &+= 1
                count(.duplicate)
                return
            case .originalAfterRebuild:
                // The rebuild was early (parity outran this member), not a repair: move it from
                // `recoveredByFEC` to `rebuiltBeforeOriginal` (docs/fec.md, "In the engine").
                if classes[c].counters.recoveredByFEC > 0 { classes[c].counters.recoveredByFEC &-= 1 }
                classes[c].counters.rebuiltBeforeOriginal &+= 1
                classes[c].counters.duplicatesDropped &+= 1
                count(.duplicate)
                return
            }
        }
        deliver(consume body, member: header.member, classIndex: c, recovered: false, now: now)
        if header.fecSequence != nil { drainRecovered(c, now: now) }
    }

    /// Delivers members the class's FEC decoder rebuilt.
    func drainRecovered(_ c: Int, now: Instant) {
        touchClass(c)
        while let recovered = classes[c].decoder?.pollRecovered() {
            var member = recovered.payload
            guard case .success(let header) = DataMemberHeader.read(from: &member) else {
                count(.malformedFrame)
                continue
            }
            deliver(consume member, member: header, classIndex: c, recovered: true, now: now)
        }
    }

    /// Dedupe by tunnel sequence, restore the flow's order (striped classes), then hand the inner
    /// packet to the local side.
    /// Owns `packet` (the frame's body, often the datagram's own buffer: `FrameReader.next`) and
    /// moves it on into the reorder stage or the delivery queue, without a copy.
    func deliver(
        _ packet: consuming ByteBuffer,
        member: DataMemberHeader,
        classIndex c: Int,
        recovered: Bool,
        now: Instant
    ) {
        switch dedupe.accept(member.tunnelSequence) {
        case .new:
            // Counted here rather than on release, so that a rebuild held in the reorder stage is
            // counted before its original can arrive and take it back.
            if recovered { classes[c].counters.recoveredByFEC &+= 1 }
            guard let flow = member.flow else {
                release(consume packet, classIndex: c, recovered: recovered)
                return
            }
            // Only the reorder stage's timers change (dedupe and counters have none).
            touchClass(c)
            if classes[c].reorder == nil {
                classes[c].reorder = FlowReorder(deliverLate: classes[c].trafficClass.deliverLatePackets)
            }
            classes[c].reorder!.receive(
                flowID: flow.id,
                sequence: flow.sequence,
                packet: consume packet,
                recovered: recovered,
                now: now
            ) { packet, recovered in release(consume packet, classIndex: c, recovered: recovered) }
        case .duplicate:
            classes[c].counters.duplicatesDropped &+= 1
            count(.duplicate)
        case .tooOld:
            count(.dedupeTooOld)
        }
    }

    /// The last step of the receive path: count and queue for the local side.
    func release(_ packet: consuming ByteBuffer, classIndex c: Int, recovered: Bool) {
        classes[c].counters.delivered &+= 1
        deliveries.append(Delivery(packet: packet, classIndex: c, recovered: recovered))
    }

    /// Skips the reorder gaps whose hold ran out.
    func expireReorder(_ c: Int, now: Instant) {
        touchClass(c)
        guard classes[c].reorder != nil else { return }
        classes[c].reorder!.handleTimeout(now: now, hold: classes[c].reorderHold) { packet, recovered in
            release(consume packet, classIndex: c, recovered: recovered)
        }
    }

    /// The hub applies the edge's view of its links: tier, cost, metering, and shapes what it sends
    /// to each link to the rate the edge announced for that link's downlink.
    func applyAnnouncement(_ announced: [LinkAnnouncement], now: Instant) {
        guard case .hub = keys else { return }
        touchAllLinks()
        peerLinks = announced
        for link in announced {
            if slot(link.linkID) == nil {
                addLink(EngineLinkConfiguration(id: link.linkID, name: link.name), now: now)
            }
            let i = slot(link.linkID)!
            var c = links[i].configuration
            c.name = link.name
            c.tier = Int(link.tier)
            c.cost = Int(link.cost)
            c.metered = link.metered
            // An MTU outside what IP allows a link (IPv4 minimum reassembly 576, jumbo 9216) is the
            // peer's mistake; clamp it rather than let the inner MTU go negative.
            c.mtu = min(max(Int(link.mtu), 576), 9_216)
            c.shapedUpBitsPerSecond = Int64(link.downKbps) * 1_000
            c.shapedDownBitsPerSecond = Int64(link.upKbps) * 1_000
            links[i].configuration = c
            links[i].shaper.setConfiguration(EngineLink.shaperConfiguration(rate: c.shapedUpBitsPerSecond), now: now)
            if link.metered { links[i].monitor.setStandby(true, now: now) }
        }
        // A link the edge no longer announces was removed by its reload: its traffic moves now,
        // not after the monitor's silence window.
        let announcedIDs = Set(announced.map(\.linkID))
        let kept = links.map(\.configuration.id).filter { announcedIDs.contains($0) }
        if kept.count != links.count {
            for i in links.indices where !announcedIDs.contains(links[i].configuration.id) {
                dropQueue(of: i, now: now)
            }
            renumberLinks(order: kept)
        }
        selectionDirty = true
        updateInnerMTU()
        events.append(.linksAnnounced(announced))
    }

    // MARK: Monitor events and path selection

    func drainMonitorEvents(_ i: Int) {
        touchLink(i)
        while let event = links[i].monitor.pollEvent() {
            links[i].status = event.to
            selectionDirty = true
            events.append(.link(linkID: links[i].configuration.id, event))
        }
    }

    /// Re-runs every class's path selector when something changed or the interval passed.
    func reselect(now: Instant) {
        guard selectionDirty else { return }
        selectionDirty = false
        touchAllClasses()  // reorder holds and FEC settings may change
        touchAllLinks()  // standby changes
        nextSelection = now + Self.selectionInterval
        var candidates = links.indices.map { links[$0].candidate(index: $0) }
        // Fail fast, recover slow — except when every link is down: then a link that shows proof
        // of life both ways again (after a hub restart, or an outage of all links) carries traffic
        // at once rather than after its recovery run, which would only prolong the outage.
        if candidates.allSatisfy({ $0.status == .down }) {
            for i in links.indices where links[i].locallyUp && links[i].destination != nil {
                let quality = links[i].monitor.selectionQuality
                let reverseAlive =
                    quality.reverse.lastAlive.map { now - $0 < links[i].monitor.detectionWindow } ?? false
                let forwardAlive =
                    quality.forward.lastAlive.map { now - $0 < links[i].monitor.forwardDetectionWindow } ?? false
                if reverseAlive && forwardAlive { candidates[i].status = .degraded }
            }
        }
        for i in links.indices { links[i].oneWay = candidates[i].measurement.rtt / 2 }
        // A metered link is probed at the standby interval only while an unmetered link is up to
        // carry traffic; a branch whose only live links are metered probes them actively, or its
        // failover would take seconds.
        let unmeteredUp = candidates.contains { $0.status != .down && !$0.metered }
        for i in links.indices where links[i].configuration.metered {
            if links[i].monitor.isStandby != unmeteredUp { links[i].monitor.setStandby(unmeteredUp, now: now) }
        }
        let up = candidates.filter { $0.status != .down }.map { $0.measurement.rtt / 2 }
        let skew = (up.max() ?? .zero) - (up.min() ?? .zero)
        for c in classes.indices {
            classes[c].reorderHold = min(classes[c].trafficClass.reorderHoldCap, skew + .milliseconds(10))
            if classes[c].selector.select(from: candidates, now: now) {
                events.append(.path(classIndex: c, choice: linkIDs(of: classes[c].selector.choice), at: now))
            }
            adaptFEC(c, candidates: candidates, now: now)
            placeParity(c, candidates: candidates)
        }
        releaseHeld(now: now)
    }

    /// Adaptive FEC: k follows the loss of the class's links, never escalating on loss our own
    /// sending causes (a link whose shaper is backlogged is at its shaped capacity).
    func adaptFEC(_ c: Int, candidates: [LinkCandidate], now: Instant) {
        guard classes[c].controller != nil, let policy = classes[c].fecPolicy else { return }
        let used = classes[c].selector.choice.links
        guard !used.isEmpty else { return }
        let loss = used.map { candidates[$0].measurement.lossRatio }.max() ?? 0
        let congested = used.contains {
            links[$0].shaper.backlogBytes > 0 && links[$0].shaper.configuration.rateBitsPerSecond > 0
        }
        let setting = classes[c].controller!.update(lossRatio: loss, congestion: congested, now: now)
        let maxMember = max(innerMTU, 1_500) + DataMemberHeader.maximumLength
        switch setting {
        case .off:
            if classes[c].encoder != nil {
                classes[c].encoder!.flush(now: now)
                drainParity(c, now: now)
                classes[c].setEncoder(nil)
            }
        case .on(let k):
            let wanted = FECEncoder.Configuration(
                classID: UInt8(c),
                groupSize: k,
                stride: policy.stride,
                delayBudget: policy.delayBudget,
                maxMemberLength: maxMember
            )
            if classes[c].encoder == nil {
                classes[c].setEncoder(FECEncoder(configuration: wanted))
            } else if classes[c].encoder!.configuration != wanted {
                classes[c].encoder!.reconfigure(wanted, now: now)
                drainParity(c, now: now)
            }
        }
    }
}
