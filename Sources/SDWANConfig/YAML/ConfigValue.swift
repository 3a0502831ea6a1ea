import Foundation
import SDWANCore
import Yams

/// One node of a parsed YAML document together with where it came from (file, line, column) and
/// its path from the root: the decoding context every typed accessor uses to word its errors.
///
/// A small typed layer over `Yams.Node`, not `Codable`: Codable loses source positions and
/// accepts unknown keys; here every error names file, line and field, and `mapping(allowing:)`
/// refuses keys it was not told about (typos are errors, not silently ignored settings).
public struct ConfigValue {
    /// The underlying node.
    public let node: Node
    /// Path from the document root.
    public let path: ConfigPath
    /// The file name used in errors.
    public let file: String

    init(node: Node, path: ConfigPath, file: String) {
        self.node = node
        self.path = path
        self.file = file
    }

    /// 1-based line of this node.
    public var line: Int? { node.mark?.line }
    /// 1-based column of this node.
    public var column: Int? { node.mark?.column }

    /// An error about this node.
    public func error(_ problem: String, expected: String? = nil) -> ConfigError {
        ConfigError(
            file: file,
            line: line,
            column: column,
            field: path.description,
            problem: problem,
            expected: expected
        )
    }

    /// What kind of node this is, for error messages.
    public var kindName: String {
        switch node {
        case .scalar(let s): s.string.isEmpty ? "an empty value" : "the value `\(s.string)`"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    // MARK: Structure

    /// This node as a mapping whose keys must all be in `allowed`; unknown and duplicate keys are
    /// errors at the key's own line, with the closest valid key suggested.
    public func mapping(allowing allowed: [String]) throws(ConfigError) -> ConfigMapping {
        guard case .mapping(let mapping) = node else {
            throw error(
                "expected a mapping, found \(kindName)",
                expected: "fields among: \(allowed.joined(separator: ", "))"
            )
        }
        var entries: [(key: String, keyValue: ConfigValue, value: ConfigValue)] = []
        for (keyNode, valueNode) in mapping {
            let keyValue = ConfigValue(node: keyNode, path: path, file: file)
            guard case .scalar(let scalar) = keyNode else { throw keyValue.error("a field name must be a plain word") }
            let key = scalar.string
            let keyAtPath = ConfigValue(node: keyNode, path: path.appending(key: key), file: file)
            guard allowed.contains(key) else {
                var expected = "one of: \(allowed.joined(separator: ", "))"
                if let guess = closest(to: key, in: allowed) {
                    expected = "`\(guess)`? Valid fields are " + allowed.joined(separator: ", ")
                }
                throw keyAtPath.error("unknown field `\(key)`", expected: expected)
            }
            if entries.contains(where: { $0.key == key }) {
                throw keyAtPath.error("field `\(key)` appears twice", expected: "each field once")
            }
            entries.append((key, keyAtPath, ConfigValue(node: valueNode, path: path.appending(key: key), file: file)))
        }
        return ConfigMapping(value: self, entries: entries)
    }

    /// This node as a list.
    public func sequence() throws(ConfigError) -> [ConfigValue] {
        guard case .sequence(let sequence) = node else {
            throw error("expected a list, found \(kindName)", expected: "a list (`- item` lines or `[a, b]`)")
        }
        return sequence.enumerated().map { ConfigValue(node: $1, path: path.appending(index: $0), file: file) }
    }

    /// Whether this node is a mapping.
    public var isMapping: Bool {
        if case .mapping = node { return true }
        return false
    }

    // MARK: Scalars

    /// The scalar's text; an error for a mapping, a list or an empty value.
    public func scalarText(expected: String) throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else {
            throw error("expected \(expected), found \(kindName)", expected: expected)
        }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty || scalar.style == .singleQuoted || scalar.style == .doubleQuoted else {
            throw error("a value is missing", expected: expected)
        }
        return text
    }

    /// A non-empty string.
    public func string() throws(ConfigError) -> String {
        let text = try scalarText(expected: "a text value")
        guard !text.isEmpty else { throw error("must not be empty", expected: "a text value") }
        return text
    }

    /// A name: letters, digits, `-`, `_` and `.`, starting with a letter or digit.
    public func name() throws(ConfigError) -> String {
        let text = try string()
        let ok = text.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)
        }
        guard ok, let first = text.unicodeScalars.first, CharacterSet.alphanumerics.contains(first) else {
            throw error(
                "`\(text)` is not a valid name",
                expected: "letters, digits, '-', '_' or '.', starting with a letter or digit"
            )
        }
        return text
    }

    /// An integer, optionally within `range`.
    public func int(in range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int {
        let expected = range.map { "an integer from \($0.lowerBound) to \($0.upperBound)" } ?? "an integer"
        let text = try scalarText(expected: expected)
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw error("`\(text)` is not an integer", expected: expected)
        }
        if let range, !range.contains(value) { throw error("\(value) is out of range", expected: expected) }
        return value
    }

    /// A real number, optionally within `range`.
    public func double(in range: ClosedRange<Double>? = nil) throws(ConfigError) -> Double {
        let expected = range.map { "a number from \($0.lowerBound) to \($0.upperBound)" } ?? "a number"
        let text = try scalarText(expected: expected)
        guard let value = Double(text.replacingOccurrences(of: "_", with: "")), value.isFinite else {
            throw error("`\(text)` is not a number", expected: expected)
        }
        if let range, !range.contains(value) { throw error("\(value) is out of range", expected: expected) }
        return value
    }

    /// `true` or `false`.
    public func bool() throws(ConfigError) -> Bool {
        let text = try scalarText(expected: "true or false")
        switch text {
        case "true": return true
        case "false": return false
        default: throw error("`\(text)` is not a boolean", expected: "true or false")
        }
    }

    /// One of a fixed set of words, listed in the error when the value is not one of them.
    public func choice<T>(_ choices: [(String, T)]) throws(ConfigError) -> T {
        let names = choices.map(\.0)
        let expected = "one of: \(names.joined(separator: ", "))"
        let text = try scalarText(expected: expected)
        guard let match = choices.first(where: { $0.0 == text }) else {
            var hint = expected
            if let guess = closest(to: text, in: names) {
                hint = "`\(guess)`? Valid values are " + names.joined(separator: ", ")
            }
            throw error("`\(text)` is not a valid value", expected: hint)
        }
        return match.1
    }

    /// A duration with a unit: `30ms`, `1.5s`, `250us`, `2min`, `0`.
    public func duration() throws(ConfigError) -> TimeSpan {
        let text = try scalarText(expected: Quantity.durationSyntax)
        guard let value = Quantity.parseDurationNanoseconds(text) else {
            throw error("`\(text)` is not a duration", expected: Quantity.durationSyntax)
        }
        return TimeSpan(nanoseconds: value)
    }

    /// A bit rate: `20mbit`, `512kbit`, `1.5gbit`, `100mbps` (bits per second, SI prefixes).
    public func bitRate() throws(ConfigError) -> Int64 {
        let text = try scalarText(expected: Quantity.rateSyntax)
        guard let value = Quantity.parseBitsPerSecond(text), value > 0 else {
            throw error("`\(text)` is not a positive bit rate", expected: Quantity.rateSyntax)
        }
        return value
    }

    /// A byte count: `1500`, `64kB`, `1MiB`.
    public func byteSize() throws(ConfigError) -> Int {
        let text = try scalarText(expected: Quantity.sizeSyntax)
        guard let value = Quantity.parseBytes(text) else {
            throw error("`\(text)` is not a size", expected: Quantity.sizeSyntax)
        }
        return value
    }

    /// A ratio as a percentage (`2%`) or a fraction (`0.02`), within `[0, upperBound]` (or
    /// `[0, upperBound)` when `upperBoundIncluded` is false).
    public func ratio(
        upTo upperBound: Double = 1,
        including upperBoundIncluded: Bool = true
    ) throws(ConfigError) -> Double {
        let range =
            upperBoundIncluded
            ? "from 0 % to \(Quantity.percent(upperBound))" : "at least 0 % and below \(Quantity.percent(upperBound))"
        let expected = "a ratio \(range), as a percentage (2%) or a fraction (0.02)"
        let text = try scalarText(expected: expected)
        guard let value = Quantity.parseRatio(text) else { throw error("`\(text)` is not a ratio", expected: expected) }
        let inRange = value >= 0 && (upperBoundIncluded ? value <= upperBound : value < upperBound)
        guard inRange else { throw error("`\(text)` is out of range", expected: expected) }
        return value
    }
}

/// A mapping whose keys were checked against a list of allowed fields, in source order.
public struct ConfigMapping {
    /// The mapping node itself (for errors about a missing field).
    public let value: ConfigValue
    let entries: [(key: String, keyValue: ConfigValue, value: ConfigValue)]

    /// The keys present, in source order.
    public var keys: [String] { entries.map(\.key) }

    /// The value of `key`, if present.
    public subscript(key: String) -> ConfigValue? {
        entries.first { $0.key == key }?.value
    }

    /// The value of `key`; an error naming the mapping's line when it is missing.
    public func required(_ key: String, expected: String) throws(ConfigError) -> ConfigValue {
        guard let found = self[key] else {
            throw ConfigError(
                file: value.file,
                line: value.line,
                column: value.column,
                field: value.path.appending(key: key).description,
                problem: "required field `\(key)` is missing",
                expected: expected
            )
        }
        return found
    }
}

/// The valid word closest to `word` by edit distance, if close enough to be a likely typo.
func closest(to word: String, in candidates: [String]) -> String? {
    let a = Array(word.lowercased())
    var best: (String, Int)?
    for candidate in candidates {
        let b = Array(candidate.lowercased())
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        let distance = a.isEmpty ? b.count : row[b.count]
        if best == nil || distance < best!.1 { best = (candidate, distance) }
    }
    guard let best, best.1 <= (min(a.count, best.0.count) >= 4 ? 2 : 1) else { return nil }
    return best.0
}
