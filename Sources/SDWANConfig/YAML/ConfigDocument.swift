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
            throw Self.convert(error, file: file)
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

    private static func convert(_ error: YamlError, file: String) -> ConfigError {
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
            return ConfigError(
                file: file,
                line: context.mark.line,
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
