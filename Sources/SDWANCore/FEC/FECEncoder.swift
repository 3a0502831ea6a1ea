import NIOCore

/// Builds XOR parity groups over the protected DATA frames of one class (docs/fec.md).
///
/// Shape (quinn-proto style): `protect(_:now:)` for each DATA frame the engine protects — it
/// returns the FEC sequence number the engine writes into that DATA frame (wire-format.md §5.4) —,
/// `handleTimeout(now:)` when `nextDeadline()` passes, and `pollParity(into:)` until it returns
/// `nil` after either. Parity frames come out in the order their groups closed.
///
/// Layout: sequence numbers go round-robin over `stride` open groups (column interleaving, SMPTE
/// ST 2022-1), so consecutive frames land in different groups and a burst of up to `stride` losses
/// costs each group at most one member. A group closes when it holds `groupSize` members, or when
/// the class's FEC delay budget has run out since its first member (`nextDeadline()`): a partial
/// group of m members costs one parity for m members (overhead 1/m) and still repairs one loss.
/// Groups span the flows of the class: the engine protects every DATA frame of the class here.
///
/// No allocation per packet in steady state: accumulators are reused from a pool.
public struct FECEncoder: Sendable {
    /// Tunables of one class's encoder.
    public struct Configuration: Sendable, Equatable {
        /// The class id written into PARITY frames (and the members' tags).
        public var classID: UInt8
        /// k: members per full group, 1…`FECLimits.maxGroupSize`.
        public var groupSize: Int
        /// Interleave depth: sequence numbers of one group are `stride` apart. Default 10, at least
        /// the expected burst length in packets (`FECLayout.stride` fits it to the packet rate).
        public var stride: Int
        /// The longest a group may stay open after its first member (the class's FEC delay budget).
        public var delayBudget: TimeSpan
        /// The longest member accepted (the inner-MTU budget, `FECLayout.maxMemberLength`).
        public var maxMemberLength: Int

        public init(
            classID: UInt8,
            groupSize: Int = 4,
            stride: Int = 10,
            delayBudget: TimeSpan = .milliseconds(20),
            maxMemberLength: Int = 1500
        ) {
            self.classID = classID
            self.groupSize = groupSize
            self.stride = stride
            self.delayBudget = delayBudget
            self.maxMemberLength = maxMemberLength
        }
    }

    /// What the encoder has done, for reports: overhead and partial groups included.
    public struct Statistics: Sendable, Equatable {
        public var membersProtected = 0
        public var memberBytes = 0
        /// Groups closed with `groupSize` members.
        public var groupsClosedFull = 0
        /// Groups closed by the delay budget (or a reconfiguration) with fewer members.
        public var groupsClosedPartial = 0
        /// `groupsBySize[m]`: closed groups of m members (index 0 unused).
        public var groupsBySize = [Int](repeating: 0, count: FECLimits.maxGroupSize + 1)
        public var parityFrames = 0
        /// Bytes of PARITY frames written (frame header + fields + payload).
        public var parityBytes = 0

        /// Parity bytes per protected member byte.
        public var byteOverhead: Double { memberBytes == 0 ? 0 : Double(parityBytes) / Double(memberBytes) }
        public init() {}

        /// Parity frames per protected member: 1/k when every group fills, more with partial groups.
        public var packetOverhead: Double {
            membersProtected == 0 ? 0 : Double(parityFrames) / Double(membersProtected)
        }
    }

    /// Describes a parity frame just written by `pollParity(into:)`.
    public struct ParityDescriptor: Sendable, Equatable {
        public var baseSequence: UInt32
        public var count: Int
        public var stride: Int
        /// The longest member's length (the parity payload's length).
        public var longestMember: Int
        /// When the group's first member was protected, and when the group closed.
        public var openedAt: Instant
        public var closedAt: Instant
        /// The frame's length on the wire.
        public var frameLength: Int { ParityFrame.frameLength(longestMember: longestMember) }
    }

    private struct Group {
        var baseSequence: UInt32 = 0
        var count = 0
        var longest = 0
        var lengthRecovery: UInt16 = 0
        var openedAt = Instant.zero
        var closedAt = Instant.zero
    }

    public private(set) var configuration: Configuration
    public private(set) var statistics = Statistics()
    /// The sequence number the next protected frame gets.
    public private(set) var nextSequence: UInt32

    /// Accumulator `i` is `storage[i·maxMemberLength ..< (i+1)·maxMemberLength]`, zero beyond its
    /// group's longest member.
    private var storage: [UInt8] = []
    private var groups: [Group] = []
    private var free: [Int] = []
    /// `open[slot]`: the accumulator of the group open in interleave slot `slot`, or −1.
    private var open: [Int]
    private var slot = 0
    /// Closed groups waiting for `pollParity`, oldest first, from `readyHead`.
    private var ready: [Int] = []
    private var readyHead = 0

    /// An encoder whose first member gets `firstSequence`.
    public init(configuration: Configuration, firstSequence: UInt32 = 0) {
        Self.validate(configuration)
        self.configuration = configuration
        self.nextSequence = firstSequence
        self.open = [Int](repeating: -1, count: configuration.stride)
    }

    private static func validate(_ c: Configuration) {
        precondition(c.groupSize >= 1 && c.groupSize <= FECLimits.maxGroupSize, "groupSize out of range")
        precondition(c.stride >= 1 && c.stride <= Int(UInt16.max), "stride out of range")
        precondition(c.delayBudget >= .zero, "negative delay budget")
        precondition(c.maxMemberLength >= 0 && c.maxMemberLength <= Int(UInt16.max), "maxMemberLength out of range")
    }

    /// Adds a member (the bytes the receiver delivers) and returns its FEC sequence number, which
    /// the engine writes into the DATA frame's FEC sequence field. A group that fills closes at once.
    @discardableResult
    public mutating func protect(_ member: ByteBuffer, now: Instant) -> UInt32 {
        member.withUnsafeReadableBytes { protect($0, now: now) }
    }

    /// `protect(_:now:)` over raw bytes.
    @discardableResult
    public mutating func protect(_ member: UnsafeRawBufferPointer, now: Instant) -> UInt32 {
        precondition(member.count <= configuration.maxMemberLength, "member longer than maxMemberLength")
        let sequence = nextSequence
        nextSequence &+= 1
        var index = open[slot]
        if index >= 0 && groups[index].openedAt + configuration.delayBudget <= now {
            close(slot: slot, now: now)
            index = -1
        }
        if index < 0 {
            index = takeAccumulator()
            groups[index] = Group(baseSequence: sequence, openedAt: now)
            open[slot] = index
        }
        let length = configuration.maxMemberLength
        storage.withUnsafeMutableBytes { all in
            if let s = member.baseAddress {
                XORKernel.xor(s, into: all.baseAddress! + index &* length, count: member.count)
            }
        }
        groups[index].count &+= 1
        groups[index].longest = max(groups[index].longest, member.count)
        groups[index].lengthRecovery ^= UInt16(truncatingIfNeeded: member.count)
        statistics.membersProtected &+= 1
        statistics.memberBytes &+= member.count
        if groups[index].count == configuration.groupSize { close(slot: slot, now: now) }
        slot = slot &+ 1 == configuration.stride ? 0 : slot &+ 1
        return sequence
    }

    /// The earliest instant an open group's delay budget runs out, or `nil` when none is open.
    public func nextDeadline() -> Instant? {
        var earliest: Instant?
        for index in open where index >= 0 {
            let deadline = groups[index].openedAt + configuration.delayBudget
            if earliest == nil || deadline < earliest! { earliest = deadline }
        }
        return earliest
    }

    /// Closes every open group whose delay budget has run out by `now`.
    public mutating func handleTimeout(now: Instant) {
        for s in 0..<open.count where open[s] >= 0 && groups[open[s]].openedAt + configuration.delayBudget <= now {
            close(slot: s, now: now)
        }
    }

    /// Closes every open group now (before the class stops or changes its layout).
    public mutating func flush(now: Instant) {
        for s in 0..<open.count where open[s] >= 0 { close(slot: s, now: now) }
    }

    /// Applies a new k, stride or budget. Open groups are closed first (their members were laid
    /// out under the old stride); the sequence space continues. The class id and
    /// `maxMemberLength` are fixed for the encoder's life.
    public mutating func reconfigure(_ new: Configuration, now: Instant) {
        Self.validate(new)
        precondition(
            new.classID == configuration.classID && new.maxMemberLength == configuration.maxMemberLength,
            "classID and maxMemberLength are fixed for an encoder's life"
        )
        flush(now: now)
        configuration = new
        open = [Int](repeating: -1, count: new.stride)
        slot = 0
    }

    /// The number of parity frames waiting for `pollParity`.
    public var pendingParityCount: Int { ready.count - readyHead }

    /// The longest member of the next parity to be polled (for placement and the MTU check before
    /// writing), or `nil` when none waits.
    public var nextParityLongestMember: Int? {
        readyHead < ready.count ? groups[ready[readyHead]].longest : nil
    }

    /// Appends the next PARITY frame to `buffer` and describes it, or returns `nil` when none waits.
    public mutating func pollParity(into buffer: inout ByteBuffer) -> ParityDescriptor? {
        guard readyHead < ready.count else { return nil }
        let index = ready[readyHead]
        readyHead &+= 1
        if readyHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
        }
        let group = groups[index]
        let start = index &* configuration.maxMemberLength
        storage.withUnsafeMutableBytes { all in
            let payload = UnsafeMutableRawBufferPointer(rebasing: all[start..<start &+ group.longest])
            ParityFrame.write(
                classID: configuration.classID,
                count: group.count,
                stride: configuration.stride,
                baseSequence: group.baseSequence,
                lengthRecovery: group.lengthRecovery,
                payload: UnsafeRawBufferPointer(payload),
                to: &buffer
            )
            // Back to zeros for the next group (only the bytes this group touched).
            payload.initializeMemory(as: UInt8.self, repeating: 0)
        }
        free.append(index)
        let descriptor = ParityDescriptor(
            baseSequence: group.baseSequence,
            count: group.count,
            stride: configuration.stride,
            longestMember: group.longest,
            openedAt: group.openedAt,
            closedAt: group.closedAt
        )
        statistics.parityFrames &+= 1
        statistics.parityBytes &+= descriptor.frameLength
        return descriptor
    }

    private mutating func takeAccumulator() -> Int {
        if let index = free.popLast() { return index }
        groups.append(Group())
        storage.append(contentsOf: repeatElement(0, count: configuration.maxMemberLength))
        return groups.count - 1
    }

    private mutating func close(slot s: Int, now: Instant) {
        let index = open[s]
        open[s] = -1
        groups[index].closedAt = now
        let count = groups[index].count
        if count == configuration.groupSize {
            statistics.groupsClosedFull &+= 1
        } else {
            statistics.groupsClosedPartial &+= 1
        }
        statistics.groupsBySize[count] &+= 1
        ready.append(index)
    }
}
