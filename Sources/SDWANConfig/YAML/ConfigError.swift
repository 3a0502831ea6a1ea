/// A configuration file that cannot be used, with where and why: file, line and column, the field
/// as a path (`branches[1].links[0].loss`) and what would be valid.
///
/// Every file the project reads (topologies, scenarios, node configs) reports its errors with this
/// one type, so `sdwan` prints them the same way: `file:line:column: field: problem; expected …`.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file as named by the caller (a path, or a label such as `<preset lte-typical>`).
    public var file: String
    /// 1-based line of the offending node, when known.
    public var line: Int?
    /// 1-based column (in Unicode scalars), when known.
    public var column: Int?
    /// The field's path from the document root; empty for the root itself.
    public var field: String
    /// What is wrong.
    public var problem: String
    /// What would be valid, if it can be said briefly.
    public var expected: String?

    public init(file: String, line: Int?, column: Int?, field: String, problem: String, expected: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.problem = problem
        self.expected = expected
    }

    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !field.isEmpty { text += "\(field): " }
        text += problem
        if let expected { text += "; expected \(expected)" }
        return text
    }
}

/// A position in a document: keys and sequence indices from the root.
public struct ConfigPath: Hashable, Sendable, CustomStringConvertible {
    /// One step down the tree.
    public enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) {
        self.components = components
    }

    /// This path extended by a key.
    public func appending(key: String) -> ConfigPath { ConfigPath(components + [.key(key)]) }

    /// This path extended by a sequence index.
    public func appending(index: Int) -> ConfigPath { ConfigPath(components + [.index(index)]) }

    /// `branches[1].links[0].loss`.
    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}
