/// Receive-side dedupe of tunnel sequence numbers (docs/path-selection.md "Dedupe"): the first copy
/// of a duplicated packet is delivered, later copies are dropped and counted.
///
/// The same RFC 6479 ring as the replay window (a ring of 64-bit blocks, no shifting), but sized
/// for the delay skew between links × the packet rate rather than for in-link reordering, and
/// independent of crypto sessions, so copies on both sides of a rekey are still caught. Memory is
/// fixed at construction: `size / 8` bytes, whatever the traffic.
///
/// A restarted peer (a hub restart loses the engine and its sequence counter) starts a new
/// sequence space at a random point; a sequence more than 2^40 from the newest starts the window
/// over instead of being refused as old, and stragglers of the old space are then refused.
public struct DedupeWindow: Sendable {
    /// What `accept` decided.
    public enum Verdict: Hashable, Sendable {
        /// First time seen: deliver.
        case new
        /// Seen before: drop.
        case duplicate
        /// Older than the window: whether it was seen is no longer known, so it is dropped rather
        /// than risk a second delivery (counted apart: a sign the window is too small).
        case tooOld
    }

    private var blocks: [UInt64]
    private let blockMask: UInt64
    /// Sequences this far behind the newest are judged individually.
    public let size: UInt64
    public private(set) var newest: UInt64 = 0
    private var started = false
    /// The newest sequence of the space before the last restart of the sender, whose stragglers
    /// are refused rather than taken for yet another restart.
    private var retiredNewest: UInt64?
    /// Distance beyond which a sequence belongs to a new sequence space: senders start at a random
    /// point below 2^62 (a restarted peer lands ~2^61 away), while real skew is below 2^20.
    static let restartDistance: UInt64 = 1 << 40
    /// Times the sender's sequence space was seen to restart (a restarted hub or edge).
    public private(set) var restarts = 0

    /// A window of at least `size` sequence numbers (rounded up to a power of two blocks).
    public init(size: Int) {
        precondition(size >= 64, "a dedupe window holds at least 64 sequences")
        var count = 2
        while (count - 1) * 64 < size { count <<= 1 }
        blocks = [UInt64](repeating: 0, count: count)
        blockMask = UInt64(count - 1)
        self.size = UInt64(count - 1) * 64
    }

    /// Checks and records `sequence`.
    public mutating func accept(_ sequence: UInt64) -> Verdict {
        if let retired = retiredNewest, distance(sequence, retired) < size {
            return .tooOld
        }
        if !started {
            started = true
            newest = sequence
        } else if distance(sequence, newest) >= Self.restartDistance {
            // A new sequence space: the sender restarted (its engine is new). Start over.
            retiredNewest = newest
            restarts += 1
            for i in blocks.indices { blocks[i] = 0 }
            newest = sequence
        } else if sequence > newest {
            let current = newest >> 6
            let target = sequence >> 6
            let steps = min(target - current, blockMask + 1)
            var i: UInt64 = 1
            while i <= steps {
                blocks[Int((current &+ i) & blockMask)] = 0
                i += 1
            }
            newest = sequence
        } else if newest - sequence >= size {
            return .tooOld
        }
        let block = Int((sequence >> 6) & blockMask)
        let bit: UInt64 = 1 << (sequence & 63)
        if blocks[block] & bit != 0 { return .duplicate }
        blocks[block] |= bit
        return .new
    }

    private func distance(_ a: UInt64, _ b: UInt64) -> UInt64 { a > b ? a - b : b - a }
}
