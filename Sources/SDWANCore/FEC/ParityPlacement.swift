/// What placement knows of one WAN link (from the path monitor's estimates).
public struct ParityLinkEstimate: Sendable, Equatable {
    public var linkID: UInt8
    /// Smoothed one-way delay (or RTT/2 where one-way is not measured).
    public var oneWayDelay: TimeSpan
    /// Measured loss ratio.
    public var lossRatio: Double
    /// Bytes of frames one transport packet on this link can carry: link MTU − outer IP/UDP
    /// header − transport overhead (docs/wire-format.md §3–§4; `FECLayout.frameBudget`).
    public var frameBudget: Int
    /// Whether the link currently meets the class's latency SLA (monitor/scheduler verdict).
    public var meetsLatencySLA: Bool

    public init(linkID: UInt8, oneWayDelay: TimeSpan, lossRatio: Double, frameBudget: Int, meetsLatencySLA: Bool) {
        self.linkID = linkID
        self.oneWayDelay = oneWayDelay
        self.lossRatio = lossRatio
        self.frameBudget = frameBudget
        self.meetsLatencySLA = meetsLatencySLA
    }
}

/// Chooses the link a parity frame goes on (docs/fec.md, "Cross-link parity" and "Delay bound").
///
/// A recovered member waits, beyond its own data link's delay, for its group to close and for the
/// parity to arrive: wait = T_close + max(0, d_parity − d_data), where T_close is the time from the
/// member's send to the group's close (at most the class's FEC delay budget) and d_data the
/// smallest one-way delay among the links that carried the group's data (the worst case). The
/// member then arrives at d_data + wait = T_close + max(d_data, d_parity), which must stay within
/// the class's one-way latency budget. Rules, in order:
/// 1. a link that does not meet the class's SLA is not used while one does; when none does (the
///    class itself rides a least-bad link), every link is a candidate: that is when loss is high
///    and parity most needed;
/// 2. the parity frame (longest member + FEC fields) must fit the link's frame budget;
/// 3. the delay bound above must hold;
/// 4. among the links left, prefer one that carried none of the group's data (its parity is then
///    not lost in the same burst as its data), then lower loss, then lower delay, then lower id.
public enum ParityPlacement {
    /// The outcome: a link and the wait it implies, or why no link was chosen.
    public enum Decision: Sendable, Equatable {
        case link(UInt8, recoveryWait: TimeSpan)
        case none(Refusal)
    }

    /// Why no parity link was chosen; the engine counts each (the group then goes unprotected).
    public enum Refusal: Sendable, Equatable, CaseIterable {
        /// No link to consider (none up). The name is historical: links that miss the SLA are
        /// candidates when no link meets it (rule 1).
        case noLinkMeetsSLA
        /// No candidate link can carry the parity frame.
        case parityDoesNotFit
        /// Every link that fits would make the recovered member later than the latency budget.
        case wouldBreakLatencyBudget
    }

    /// The wait a recovered member suffers beyond its data link's delay.
    @inlinable
    public static func recoveryWait(groupClosingTime: TimeSpan, dataDelay: TimeSpan, parityDelay: TimeSpan) -> TimeSpan
    {
        groupClosingTime + max(.zero, parityDelay - dataDelay)
    }

    /// Chooses the parity link for a group.
    /// - Parameters:
    ///   - dataLinks: the links that carried the group's members (usually one).
    ///   - links: every link of the tunnel with its current estimates (order does not matter).
    ///   - groupClosingTime: the longest time from a member's send to the group's close (the
    ///     encoder's `closedAt − openedAt`, at most the class's FEC delay budget).
    ///   - latencyBudget: the class's one-way latency budget (SLA) for a recovered member.
    ///   - parityFrameLength: `ParityFrame.frameLength(longestMember:)` of this group.
    public static func choose(
        dataLinks: [UInt8],
        links: [ParityLinkEstimate],
        groupClosingTime: TimeSpan,
        latencyBudget: TimeSpan,
        parityFrameLength: Int
    ) -> Decision {
        let dataDelay = links.filter { dataLinks.contains($0.linkID) }.map(\.oneWayDelay).min() ?? .zero
        var best: (link: ParityLinkEstimate, wait: TimeSpan, otherLink: Bool)?
        var refusal = Refusal.noLinkMeetsSLA
        // Rule 1: SLA-meeting links only, unless there are none (least-bad: parity still goes).
        let anyMeetsSLA = links.contains { $0.meetsLatencySLA }
        for link in links where link.meetsLatencySLA || !anyMeetsSLA {
            guard parityFrameLength <= link.frameBudget else {
                if refusal == .noLinkMeetsSLA { refusal = .parityDoesNotFit }
                continue
            }
            let wait = recoveryWait(
                groupClosingTime: groupClosingTime,
                dataDelay: dataDelay,
                parityDelay: link.oneWayDelay
            )
            guard dataDelay + wait <= latencyBudget else {
                refusal = .wouldBreakLatencyBudget
                continue
            }
            let candidate = (link: link, wait: wait, otherLink: !dataLinks.contains(link.linkID))
            if let current = best, !isBetter(candidate, than: current) { continue }
            best = candidate
        }
        guard let chosen = best else { return .none(refusal) }
        return .link(chosen.link.linkID, recoveryWait: chosen.wait)
    }

    private static func isBetter(
        _ a: (link: ParityLinkEstimate, wait: TimeSpan, otherLink: Bool),
        than b: (link: ParityLinkEstimate, wait: TimeSpan, otherLink: Bool)
    ) -> Bool {
        if a.otherLink != b.otherLink { return a.otherLink }
        if a.link.lossRatio != b.link.lossRatio { return a.link.lossRatio < b.link.lossRatio }
        if a.link.oneWayDelay != b.link.oneWayDelay { return a.link.oneWayDelay < b.link.oneWayDelay }
        return a.link.linkID < b.link.linkID
    }
}

/// Sizing helpers for the engine's FEC layout (docs/fec.md, "MTU budget" and "Interleave").
public enum FECLayout {
    /// Bytes of frames one transport packet can carry on a link of `linkMTU` bytes with an outer
    /// header of `outerHeaderLength` (`WireFormat.outerIPv4UDPLength` or `outerIPv6UDPLength`).
    @inlinable
    public static func frameBudget(linkMTU: Int, outerHeaderLength: Int) -> Int {
        linkMTU - outerHeaderLength - WireFormat.transportOverhead
    }

    /// The longest member whose parity still fits one packet of `frameBudget` bytes: the
    /// inner-MTU budget of a protected class is at most this (minus whatever the engine's DATA
    /// frame carries beyond the member, which is less than the parity's 13 bytes plus fields).
    @inlinable
    public static func maxMemberLength(frameBudget: Int) -> Int {
        frameBudget - ParityFrame.frameLength(longestMember: 0)
    }

    /// An interleave stride for a class sending `packetsPerSecond` with FEC delay budget `budget`
    /// and group size k: as deep as `preferred` (≥ the expected burst length), but no deeper than
    /// lets a group fill within the budget, floor(rate · budget / k), and at least 1. At low rates
    /// bursts (which last a time, not a packet count) also span fewer packets.
    @inlinable
    public static func stride(packetsPerSecond: Double, budget: TimeSpan, groupSize k: Int, preferred: Int = 10) -> Int
    {
        let fitting = packetsPerSecond * budget.seconds / Double(max(k, 1))
        guard fitting.isFinite, fitting >= 1 else { return 1 }
        return max(1, min(preferred, Int(fitting)))
    }
}
