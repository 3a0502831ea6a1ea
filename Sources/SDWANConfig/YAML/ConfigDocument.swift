import Foundation
import Yams

/// Reads a YAML file into a `ConfigValue` tree that remembers file, line and column.
public enum ConfigDocument {
    /// Parses `text`; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.convert(error, file: file, text: text)
        } catch {
            throw ConfigError(file: file, line: nil, column: nil, field: "", problem: "not valid YAML: \(error)")
        }
        guard let node else {
            throw ConfigError(
                file: file,
                line: 1,
                column: 1,
                field: "",
                problem: "the file is empty",
                expected: "a YAML mapping"
            )
        }
        return ConfigValue(node: node, path: ConfigPath(), file: file)
    }

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws(ConfigError) -> ConfigValue {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(
                file: path,
                line: nil,
                column: nil,
                field: "",
                problem: "cannot read the file (\(error.localizedDescription))"
            )
        }
        return try parse(text, file: path)
    }

    /// The line of the second `key:` at the mapping's own column (a block mapping), so the error
    /// points at the repeated field rather than at the mapping; `nil` for flow mappings.
    private static func secondOccurrence(of key: String, below mark: Mark, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var seen = 0
        let first = max(0, mark.line - 1)
        guard first < lines.count, mark.column >= 1 else { return nil }
        for index in first..<lines.count {
            let line = lines[index].unicodeScalars
            guard line.count >= mark.column - 1 + key.unicodeScalars.count + 1 else { continue }
            let start = line.index(line.startIndex, offsetBy: mark.column - 1)
            let indent = line[..<start]
            if index > mark.line - 1 && !indent.allSatisfy({ $0 == " " || $0 == "-" }) { continue }
            if String(line[start...]).hasPrefix(key + ":") {
                seen += 1
                if seen == 2 { return index + 1 }
            }
        }
        return nil
    }

    private static func convert(_ error: YamlError, file: String, text: String) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            return ConfigError(
                file: file,
                line: mark.line,
                column: mark.column,
                field: "",
                problem: "not valid YAML: \(prefix)\(problem)"
            )
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "`\($0)`" }.joined(separator: ", ")
            let second = duplicates.sorted().first.flatMap {
                secondOccurrence(of: $0, below: context.mark, in: text)
            }
            return ConfigError(
                file: file,
                line: second ?? context.mark.line,
                column: context.mark.column,
                field: "",
                problem: "field \(keys) appears twice in one mapping",
                expected: "each field once"
            )
        default:
            return ConfigError(file: file, line: nil, column: nil, field: "", problem: "not valid YAML: \(error)")
        }
    }
}
