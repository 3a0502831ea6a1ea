/// The hub's branch table changed live (a SIGHUP reload; docs/operations.md "Reload"): branches
/// added (`addBranch`), removed or changed without touching the sessions of the others.
extension HubEndpoint {
    /// The configuration of a branch, by name.
    public func branchConfiguration(named name: String) -> HubBranchConfiguration? {
        branches.first { $0.configuration.name == name }?.configuration
    }

    /// Removes a branch: its sessions are dropped (their receiver indices open nothing any more,
    /// counted `unknownReceiverIndex`), the responder forgets its key, and its routes go. Returns
    /// whether the branch existed.
    @discardableResult
    public func removeBranch(named name: String) -> Bool {
        guard let b = branches.firstIndex(where: { $0.configuration.name == name }) else { return false }
        responder.removePeer(branches[b].configuration.publicKey)
        branches.remove(at: b)
        branchByKey = [:]
        for (i, branch) in branches.enumerated() { branchByKey[branch.configuration.publicKey] = i }
        var byIndex: [UInt32: Int] = [:]
        for (index, owner) in branchByIndex where owner != b { byIndex[index] = owner > b ? owner - 1 : owner }
        branchByIndex = byIndex
        rebuildBranchDeadlines()
        rebuildRoutes()
        return true
    }

    /// Changes a branch in place (matched by name; the public key must be the same — a new key is a
    /// new branch: remove and add). Its sessions stay up: the allowed prefixes route and filter
    /// from the next packet, the engine takes the new classes (`TunnelEngine.apply`), and the PSK
    /// is used from the next handshake. Returns what the engine changed, or `nil` when the branch
    /// does not exist or its key differs.
    @discardableResult
    public func updateBranch(
        _ configuration: HubBranchConfiguration,
        presharedKey: borrowing PresharedKey,
        now: Instant
    ) -> EngineConfigurationChange? {
        guard let b = branches.firstIndex(where: { $0.configuration.name == configuration.name }),
            branches[b].configuration.publicKey == configuration.publicKey
        else { return nil }
        responder.addPeer(configuration.publicKey, presharedKey: presharedKey)
        branches[b].configuration = configuration
        rebuildRoutes()
        let change = branches[b].engine.apply(configuration.engine, now: now)
        drain(b, now: now)
        return change
    }

    /// Replaces the branch-to-branch rules; they apply from the next packet.
    public func setForwardingRules(_ rules: [BranchForwardingRule]) {
        forwardingRules = rules
    }
}
