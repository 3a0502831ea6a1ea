/// The hub's timer: the earliest deadline of its branch engines, and the timeouts of the branches
/// that are due.
///
/// A few branches are simply asked in turn (an engine keeps its last answer until its next input,
/// so an untouched branch answers at once). From `deadlineTreeFrom` branches on, asking every
/// branch after every input made a concentrator's per-datagram cost grow with the branches it
/// terminates (`sdwan-bench hub`: 8.8× one branch's cost at 1 000 branches): the deadlines then
/// live in a `DeadlineTree`. A drained branch (every input to its engine ends in `drain`) is
/// marked stale, and asked once when the hub's deadline is next needed, so the inputs one datagram
/// causes — its delivery, the reply it triggers — cost one question.
extension HubEndpoint {
    /// Branches from which the tree pays for its upkeep.
    static let deadlineTreeFrom = 16

    var usesDeadlineTree: Bool { branches.count >= Self.deadlineTreeFrom }

    /// Runs the timers of the branches that are due, in branch order (a branch that forwarding
    /// makes due during the pass runs in it when its turn comes).
    public func handleTimeout(now: Instant, wallTime: WallTime) {
        guard usesDeadlineTree else {
            for b in branches.indices {
                // Borrowed, not retained (see `drain`): a timeout adds or removes no branch.
                let due = Unmanaged.passUnretained(branches[b].engine)._withUnsafeGuaranteedRef {
                    engine -> Bool in
                    guard let deadline = engine.nextDeadline(), deadline <= now else { return false }
                    engine.handleTimeout(now: now, wallTime: wallTime)
                    return true
                }
                if due { drain(b, now: now) }
            }
            return
        }
        settleBranchDeadlines()
        var next = 0
        while let b = branchDeadlines.firstDue(from: next, atOrBefore: now) {
            branches[b].engine.handleTimeout(now: now, wallTime: wallTime)
            drain(b, now: now)
            settleBranchDeadlines()
            next = b + 1
        }
    }

    /// The earliest instant a branch engine has work to do.
    public func nextDeadline() -> Instant? {
        guard usesDeadlineTree else {
            // A loop, not `compactMap(…).min()`: this runs after every input and must not allocate.
            var earliest: Instant?
            for b in branches.indices {
                // Borrowed, not retained (asking changes no branch; see `drain`).
                let deadline = Unmanaged.passUnretained(branches[b].engine)._withUnsafeGuaranteedRef {
                    $0.nextDeadline()
                }
                if let d = deadline, earliest == nil || d < earliest! { earliest = d }
            }
            return earliest
        }
        settleBranchDeadlines()
        if verifiesDeadlineCache {
            for b in branches.indices {
                precondition(
                    branchDeadlines.deadline(b) == branches[b].engine.nextDeadline(),
                    "stale deadline of branch \(b)"
                )
            }
        }
        return branchDeadlines.earliest
    }

    /// Branch `b`'s engine took an input and was drained.
    @inline(__always)
    func branchDrained(_ b: Int) {
        guard usesDeadlineTree, !branchIsStale[b] else { return }
        branchIsStale[b] = true
        staleBranches.append(b)
    }

    /// A branch was appended to `branches`.
    func branchAdded() {
        if branches.count == Self.deadlineTreeFrom {
            rebuildBranchDeadlines()
        } else if usesDeadlineTree {
            branchDeadlines.append(branches[branches.count - 1].engine.nextDeadline())
            branchIsStale.append(false)
        }
    }

    /// The branch table was renumbered (a branch removed): every entry is asked again.
    func rebuildBranchDeadlines() {
        staleBranches.removeAll()
        guard usesDeadlineTree else {
            branchDeadlines = DeadlineTree()
            branchIsStale = []
            return
        }
        branchDeadlines.rebuild(branches.map { $0.engine.nextDeadline() })
        branchIsStale = [Bool](repeating: false, count: branches.count)
    }

    /// Sets the tree entries of the branches drained since the last call.
    func settleBranchDeadlines() {
        guard !staleBranches.isEmpty else { return }
        for b in staleBranches {
            branchIsStale[b] = false
            branchDeadlines.set(b, branches[b].engine.nextDeadline())
        }
        staleBranches.removeAll(keepingCapacity: true)
    }
}
