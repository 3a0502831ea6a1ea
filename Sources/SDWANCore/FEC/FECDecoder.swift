import NIOCore

/// The receiving side of one class's XOR FEC (docs/fec.md): keeps recent members and parity in
/// bounded memory and rebuilds a member when exactly one of its group is missing (RFC 5109 §8.2
/// "recovery procedures").
///
/// Calls: `receiveMember(sequence:payload:now:)` for every protected DATA frame — deliver it only
/// when the answer is `.deliver` —, `receiveParity(_:now:)` for every PARITY frame,
/// `pollRecovered()` after either until `nil` (deliver those too), `handleTimeout(now:)` when
/// `nextDeadline()` passes.
///
/// Guarantees: a recovered member is byte-identical to the original (the length comes from the
/// length-recovery field; the zero padding and the longest length are checked, and a parity that
/// fails these checks recovers nothing); no sequence number is delivered twice while it is inside
/// the window, and members older than the window are refused rather than risk a second delivery.
public struct FECDecoder: Sendable {
    /// Tunables of one class's decoder.
    public struct Configuration: Sendable, Equatable {
        /// The class whose sequence space this decoder follows.
        public var classID: UInt8
        /// Members remembered (a power of two): for recovery and for the duplicate check. It must
        /// cover the reordering between links: (delay difference) × (packet rate of the class).
        public var window: Int
        /// How long a parity that cannot recover yet (two or more members missing) waits for late
        /// members before its group is counted unrecoverable (Fortinet's receive timer is 50 ms).
        public var parityHoldTime: TimeSpan
        /// Parity frames held at once; the oldest is evicted (and counted) beyond this.
        public var maxPendingParities: Int

        public init(
            classID: UInt8,
            window: Int = 1024,
            parityHoldTime: TimeSpan = .milliseconds(100),
            maxPendingParities: Int = 64
        ) {
            self.classID = classID
            self.window = window
            self.parityHoldTime = parityHoldTime
            self.maxPendingParities = maxPendingParities
        }
    }

    /// What the engine does with a received member.
    public enum MemberDisposition: Sendable, Equatable {
        /// New: deliver it.
        case deliver
        /// Already delivered (received, or recovered and its original already seen): drop it.
        case duplicate
        /// The original of a member already rebuilt from parity (the parity came first, e.g. over
        /// a faster link): drop it. The rebuild was early, not the repair of a loss; counted in
        /// `rebuiltBeforeOriginal`. Later copies of it are `.duplicate`.
        case originalAfterRebuild
        /// Older than the window, so whether it was delivered is no longer known: drop it.
        case tooOld
    }

    /// A member rebuilt from parity, ready to deliver.
    public struct Recovered: Sendable {
        public var sequence: UInt32
        public var payload: ByteBuffer
        public var recoveredAt: Instant
    }

    /// Every outcome, counted (docs/fec.md, "Counters").
    public struct Counters: Sendable, Equatable {
        public var membersDelivered = 0
        public var duplicateMembers = 0
        public var tooOldMembers = 0
        public var paritiesReceived = 0
        /// Members rebuilt and delivered (repairs and early rebuilds alike).
        public var recovered = 0
        /// Rebuilt members whose original then arrived: `recovered − rebuiltBeforeOriginal` are
        /// the losses repaired (so far as the window can tell).
        public var rebuiltBeforeOriginal = 0
        /// Parity whose group had no member missing.
        public var parityUnneeded = 0
        /// Groups given up with two or more members missing (hold time or window passed).
        public var unrecoverableGroups = 0
        /// Parity arriving after its members left the window.
        public var lateParity = 0
        /// Parity evicted because `maxPendingParities` were already held.
        public var evictedParity = 0
        /// Parity spanning more sequence numbers than the window holds.
        public var parityWiderThanWindow = 0
        /// Parity whose recovery failed the length and padding checks: nothing delivered.
        public var inconsistentParity = 0
        /// Malformed PARITY frames by `ParityDropReason.rawValue`.
        public var malformedParity = [Int](repeating: 0, count: ParityDropReason.allCases.count)

        public init() {}
    }

    private struct Slot {
        var sequence: UInt32 = 0
        var present = false
        var payload: ByteBuffer?
        /// Rebuilt from parity and its original not seen yet.
        var rebuilt = false
    }

    private struct Pending {
        var frame: ParityFrame
        var expiry: Instant
    }

    public let configuration: Configuration
    public private(set) var counters = Counters()

    private var slots: [Slot]
    private let mask: Int
    private var highest: UInt32?
    private var pending: [Pending] = []
    private var recoveredQueue: [Recovered] = []
    private var recoveredHead = 0
    private let allocator = ByteBufferAllocator()

    public init(configuration: Configuration) {
        precondition(
            configuration.window > 0 && configuration.window & (configuration.window - 1) == 0,
            "window must be a power of two"
        )
        precondition(configuration.window <= 1 << 30, "window too large")
        precondition(configuration.maxPendingParities >= 1, "maxPendingParities must be at least 1")
        self.configuration = configuration
        self.slots = [Slot](repeating: Slot(), count: configuration.window)
        self.mask = configuration.window - 1
    }

    // MARK: members

    /// Records a received member. Deliver it only on `.deliver`.
    public mutating func receiveMember(sequence: UInt32, payload: ByteBuffer, now: Instant) -> MemberDisposition {
        if let h = highest {
            let d = sequenceDistance(sequence, from: h)
            if d <= -configuration.window {
                counters.tooOldMembers &+= 1
                return .tooOld
            }
            if d > 0 { advance(to: sequence, from: h) }
        } else {
            highest = sequence
        }
        let i = Int(truncatingIfNeeded: sequence) & mask
        if slots[i].present && slots[i].sequence == sequence {
            if slots[i].rebuilt {
                slots[i].rebuilt = false
                counters.rebuiltBeforeOriginal &+= 1
                return .originalAfterRebuild
            }
            counters.duplicateMembers &+= 1
            return .duplicate
        }
        slots[i] = Slot(sequence: sequence, present: true, payload: payload)
        counters.membersDelivered &+= 1
        if !pending.isEmpty { retryPending(containing: sequence, now: now) }
        return .deliver
    }

    /// Slides the window so that `sequence` is the highest; slots leaving it are emptied, and
    /// parity whose members left it is given up.
    private mutating func advance(to sequence: UInt32, from h: UInt32) {
        let d = sequenceDistance(sequence, from: h)
        if d >= configuration.window {
            for i in slots.indices { slots[i] = Slot() }
        } else {
            var s = h
            for _ in 0..<d {
                s &+= 1
                slots[Int(truncatingIfNeeded: s) & mask] = Slot()
            }
        }
        highest = sequence
        if !pending.isEmpty {
            var kept = 0
            for j in pending.indices {
                if sequenceDistance(pending[j].frame.baseSequence, from: sequence) <= -configuration.window {
                    counters.unrecoverableGroups &+= 1
                } else {
                    pending[kept] = pending[j]
                    kept &+= 1
                }
            }
            pending.removeLast(pending.count - kept)
        }
    }

    private func isPresent(_ sequence: UInt32) -> Bool {
        let slot = slots[Int(truncatingIfNeeded: sequence) & mask]
        return slot.present && slot.sequence == sequence
    }

    // MARK: parity

    /// Parses a PARITY frame body and handles it; a malformed one is dropped and counted.
    public mutating func receiveParityFrame(_ body: ByteBuffer, now: Instant) {
        switch ParityFrame.parse(body) {
        case .success(let frame): receiveParity(frame, now: now)
        case .failure(let reason): counters.malformedParity[reason.rawValue] &+= 1
        }
    }

    /// Handles a parsed PARITY frame: recovers at once when exactly one member is missing, holds
    /// it when more are (members may still arrive over a slower link).
    public mutating func receiveParity(_ frame: ParityFrame, now: Instant) {
        guard frame.classID == configuration.classID else {
            counters.malformedParity[ParityDropReason.unknownClass.rawValue] &+= 1
            return
        }
        counters.paritiesReceived &+= 1
        guard (frame.count - 1) * frame.stride < configuration.window else {
            counters.parityWiderThanWindow &+= 1
            return
        }
        if let h = highest, sequenceDistance(frame.baseSequence, from: h) <= -configuration.window {
            counters.lateParity &+= 1
            return
        }
        if evaluate(frame, now: now) { return }
        if pending.count == configuration.maxPendingParities {
            pending.removeFirst()
            counters.evictedParity &+= 1
        }
        pending.append(Pending(frame: frame, expiry: now + configuration.parityHoldTime))
    }

    /// Settles `frame` if it can: no member missing (nothing to do) or exactly one (recover).
    /// Returns `false` when two or more are missing and the parity must wait.
    private mutating func evaluate(_ frame: ParityFrame, now: Instant) -> Bool {
        var missing = -1
        for i in 0..<frame.count where !isPresent(frame.memberSequence(i)) {
            if missing >= 0 { return false }
            missing = i
        }
        if missing < 0 {
            counters.parityUnneeded &+= 1
        } else {
            recover(frame, missing: missing, now: now)
        }
        return true
    }

    /// Re-examines held parity covering `sequence`. A recovery may slide the window and give up
    /// other held parity, so each match is taken out before it is evaluated and put back if it
    /// must still wait.
    private mutating func retryPending(containing sequence: UInt32, now: Instant) {
        var j = 0
        while j < pending.count {
            guard pending[j].frame.memberIndex(of: sequence) != nil else {
                j &+= 1
                continue
            }
            let held = pending.remove(at: j)
            if !evaluate(held.frame, now: now) {
                j = min(j, pending.count)
                pending.insert(held, at: j)
                j &+= 1
            }
        }
    }

    /// Rebuilds member `missing` of `frame`: payload = parity ⊕ the other members, length =
    /// length recovery ⊕ their lengths (RFC 5109 §8.2). Refuses, counted, when the result is
    /// inconsistent: a length past the payload, a longest member that is not the payload's length,
    /// or non-zero bytes where the missing member's zero padding must be.
    private mutating func recover(_ frame: ParityFrame, missing: Int, now: Instant) {
        let parityLength = frame.payload.readableBytes
        var out = allocator.buffer(capacity: parityLength)
        out.writeImmutableBuffer(frame.payload)
        var length = Int(frame.lengthRecovery)
        var longestOther = 0
        var consistent = true
        out.withUnsafeMutableReadableBytes { accumulator in
            for i in 0..<frame.count where i != missing {
                let member = slots[Int(truncatingIfNeeded: frame.memberSequence(i)) & mask].payload!
                let n = member.readableBytes
                guard n <= parityLength else {
                    consistent = false
                    return
                }
                length ^= n
                longestOther = max(longestOther, n)
                member.withUnsafeReadableBytes { XORKernel.xor($0, into: accumulator) }
            }
            guard consistent, length <= parityLength, max(longestOther, length) == parityLength else {
                consistent = false
                return
            }
            consistent = XORKernel.isZero(UnsafeRawBufferPointer(rebasing: accumulator[length...]))
        }
        guard consistent else {
            counters.inconsistentParity &+= 1
            return
        }
        out.moveWriterIndex(to: out.readerIndex + length)
        let sequence = frame.memberSequence(missing)
        if let h = highest {
            if sequenceDistance(sequence, from: h) > 0 { advance(to: sequence, from: h) }
        } else {
            highest = sequence
        }
        slots[Int(truncatingIfNeeded: sequence) & mask] = Slot(
            sequence: sequence,
            present: true,
            payload: out,
            rebuilt: true
        )
        recoveredQueue.append(Recovered(sequence: sequence, payload: out, recoveredAt: now))
        counters.recovered &+= 1
    }

    /// The next recovered member to deliver, oldest first, or `nil`.
    public mutating func pollRecovered() -> Recovered? {
        guard recoveredHead < recoveredQueue.count else { return nil }
        let next = recoveredQueue[recoveredHead]
        recoveredHead &+= 1
        if recoveredHead == recoveredQueue.count {
            recoveredQueue.removeAll(keepingCapacity: true)
            recoveredHead = 0
        }
        return next
    }

    // MARK: time

    /// When the oldest held parity gives up, or `nil` when none is held.
    public func nextDeadline() -> Instant? {
        pending.lazy.map(\.expiry).min()
    }

    /// Gives up held parity whose hold time has passed; each counts as an unrecoverable group.
    public mutating func handleTimeout(now: Instant) {
        let before = pending.count
        pending.removeAll { $0.expiry <= now }
        counters.unrecoverableGroups &+= before - pending.count
    }

    /// Parity frames held, waiting for members.
    public var pendingParityCount: Int { pending.count }
}
