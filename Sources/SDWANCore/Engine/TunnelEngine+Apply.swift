import NIOCore

/// What `TunnelEngine.apply(_:now:)` changed, for the shell's reload log.
public struct EngineConfigurationChange: Hashable, Sendable {
    /// Link ids, in the new configuration's order.
    public var linksAdded: [UInt8] = []
    public var linksRemoved: [UInt8] = []
    /// Links whose settings changed (tier, cost, shaping, MTU, destination, probing).
    public var linksChanged: [UInt8] = []
    /// Links whose probe settings changed: kept until a restart (the rest of the link's change
    /// applies; see `TunnelEngine.reconfigureLink`).
    public var linksProbeSettingsAtRestart: [UInt8] = []
    /// Class names.
    public var classesAdded: [String] = []
    public var classesRemoved: [String] = []
    public var classesChanged: [String] = []
    /// The classification rules or the default class changed.
    public var rulesChanged = false
    /// Dedupe window, ICMP rate, router addresses or MSS clamping changed.
    public var tunnelSettingsChanged = false

    public init() {}

    public var isEmpty: Bool { self == EngineConfigurationChange() }
}

extension TunnelEngine {
    /// Applies a new configuration to the running tunnel without a new handshake (a SIGHUP
    /// reload; docs/operations.md "Reload").
    ///
    /// - Links (the edge; matched by id): an added link starts probing on the current keys, a
    ///   removed link's queued packets are dropped (counted `linkRemoved`) and its classes move as
    ///   after a link failure, a changed link keeps its monitor and counters (probe settings wait
    ///   for a restart). Another name under an old id (ids default to list positions) is a change
    ///   of that link: its measurements carry on until the new path's replace them. The edge
    ///   announces the new link table to the hub.
    ///   On the hub, links come from the branch's announcements and `newConfiguration.links` is
    ///   ignored.
    /// - Classes (matched by index, the class id on the wire): an unchanged class keeps everything
    ///   (path choice, FEC state, hold queue, reorder stage); a changed one starts afresh but keeps
    ///   its hold queue and counters when its name is the same. Both ends must run the same table,
    ///   so new classes belong at the end.
    ///
    /// Re-selects every class at once, so the next packet already follows the new table.
    @discardableResult
    public func apply(_ newConfiguration: EngineConfiguration, now: Instant) -> EngineConfigurationChange {
        inputArrived()
        var change = EngineConfigurationChange()
        var applied = newConfiguration
        if case .edge(let session) = keys {
            applyLinks(newConfiguration.links, now: now, change: &change)
            session.setLinks(links.map(\.configuration.id))
        } else {
            applied.links = configuration.links
        }
        applyClasses(newConfiguration, change: &change)
        touchAllClasses()
        touchAllLinks()
        let old = configuration
        change.tunnelSettingsChanged =
            old.dedupeWindow != applied.dedupeWindow || old.icmpPerSecond != applied.icmpPerSecond
            || old.routerAddressV4 != applied.routerAddressV4 || old.routerAddressV6 != applied.routerAddressV6
            || old.clampMSS != applied.clampMSS
        if old.dedupeWindow != applied.dedupeWindow { dedupe = DedupeWindow(size: applied.dedupeWindow) }
        configuration = applied
        updateInnerMTU()
        selectionDirty = true
        reselect(now: now)
        let linksMoved = !change.linksAdded.isEmpty || !change.linksRemoved.isEmpty || !change.linksChanged.isEmpty
        if case .edge = keys, linksMoved, isEstablished { announceLinks(now: now) }
        flush(now: now)
        return change
    }

    // MARK: Links

    func applyLinks(_ wanted: [EngineLinkConfiguration], now: Instant, change: inout EngineConfigurationChange) {
        let wantedIDs = Set(wanted.map(\.id))
        for link in links where !wantedIDs.contains(link.configuration.id) {
            change.linksRemoved.append(link.configuration.id)
        }
        for link in wanted {
            guard let i = slot(link.id) else {
                addLink(link, now: now)
                change.linksAdded.append(link.id)
                continue
            }
            guard links[i].configuration != link else { continue }
            if !reconfigureLink(i, link, now: now) { change.linksProbeSettingsAtRestart.append(link.id) }
            change.linksChanged.append(link.id)
        }
        for id in change.linksRemoved {
            if let i = slot(id) { dropQueue(of: i, now: now) }
        }
        renumberLinks(order: wanted.map(\.id))
    }

    /// A removed link's socket is going away: what waits in its shaper cannot leave (counted).
    func dropQueue(of i: Int, now: Instant) {
        let farFuture = now + .seconds(3_600)
        while links[i].shaper.dequeue(now: farFuture) != nil { count(.linkRemoved) }
    }

    /// Puts `links` in the order of `ids` (dropping the others) and renumbers every index into
    /// it: the id table, each class's path choice and parity link.
    func renumberLinks(order ids: [UInt8]) {
        var newIndex = [Int](repeating: -1, count: links.count)
        var reordered: [EngineLink] = []
        reordered.reserveCapacity(ids.count)
        for id in ids {
            guard let i = slot(id) else { continue }
            newIndex[i] = reordered.count
            reordered.append(links[i])
        }
        guard reordered.count != links.count || newIndex.enumerated().contains(where: { $0.offset != $0.element })
        else { return }
        links.replaceAll(with: reordered)
        linkIndex = [Int](repeating: -1, count: 256)
        for (i, link) in links.enumerated() { linkIndex[Int(link.configuration.id)] = i }
        let map: (Int) -> Int? = { old in newIndex[old] >= 0 ? newIndex[old] : nil }
        for c in classes.indices {
            classes[c].selector.renumberLinks(map)
            classes[c].parityLink = classes[c].parityLink.flatMap(map)
        }
        selectionDirty = true
    }

    /// Changes a link's settings in place, keeping its monitor (its measurements, and the
    /// accounting of the peer's per-link counter space, which goes on across a reload). Returns
    /// `false` when the probe settings changed: a monitor cannot take new ones mid-session (a new
    /// one would count the counters it never saw as lost), so they wait for a restart; standby
    /// follows `metered` live.
    func reconfigureLink(_ i: Int, _ link: EngineLinkConfiguration, now: Instant) -> Bool {
        let old = links[i].configuration
        var monitorBefore = old.monitor
        monitorBefore.standby = link.monitor.standby
        let probesKept = monitorBefore == link.monitor
        links[i].configuration = link
        links[i].configuration.monitor = monitorBefore
        if old.shapedUpBitsPerSecond != link.shapedUpBitsPerSecond {
            links[i].shaper.setConfiguration(EngineLink.shaperConfiguration(rate: link.shapedUpBitsPerSecond), now: now)
        }
        if case .edge = keys, old.destination != link.destination { links[i].destination = link.destination }
        selectionDirty = true
        if old.monitor.standby != link.monitor.standby { links[i].monitor.setStandby(link.monitor.standby, now: now) }
        return probesKept
    }

    // MARK: Classes

    func applyClasses(_ new: EngineConfiguration, change: inout EngineConfigurationChange) {
        let old = configuration
        change.rulesChanged = old.classRules != new.classRules || old.defaultClassIndex != new.defaultClassIndex
        let maxMember = max(innerMTU, 1_500) + DataMemberHeader.maximumLength
        var table: [EngineClass] = []
        table.reserveCapacity(new.classes.count)
        for (i, cls) in new.classes.enumerated() {
            if i < classes.count, classes[i].trafficClass == cls, old.fec[i] == new.fec[i] {
                table.append(classes[i])
                continue
            }
            var fresh = EngineClass(trafficClass: cls, classID: UInt8(i), fec: new.fec[i], maxMemberLength: maxMember)
            if let before = old.classes.firstIndex(where: { $0.name == cls.name }) {
                fresh.counters = classes[before].counters
                if before == i { fresh.hold = classes[before].hold }
                change.classesChanged.append(cls.name)
            } else {
                change.classesAdded.append(cls.name)
            }
            table.append(fresh)
        }
        for cls in old.classes where !new.classes.contains(where: { $0.name == cls.name }) {
            change.classesRemoved.append(cls.name)
        }
        classes.replaceAll(with: table)
        if change.rulesChanged {
            classifier = Classifier(rules: new.classRules, defaultClassIndex: new.defaultClassIndex)
        }
    }
}
