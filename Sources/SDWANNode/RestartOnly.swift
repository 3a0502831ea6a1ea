/// A reload keeps a setting that only takes effect at restart at its running value, and says so
/// in the reload's notes ("identity changed: takes effect at restart"): the node must not claim
/// settings it is not running with.
func keepRunningValue<Config, Value: Equatable>(
    _ field: WritableKeyPath<Config, Value>,
    named name: String,
    running: Config,
    in effective: inout Config,
    notes: inout [String]
) {
    guard effective[keyPath: field] != running[keyPath: field] else { return }
    notes.append("\(name) changed: takes effect at restart")
    effective[keyPath: field] = running[keyPath: field]
}
