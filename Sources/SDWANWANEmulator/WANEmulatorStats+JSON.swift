import Foundation

extension WANEmulatorStats {
    /// Pretty JSON with sorted keys (stable output for diffs and tests).
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Decodes stats printed by `jsonText`.
    public init(json: String) throws {
        self = try JSONDecoder().decode(WANEmulatorStats.self, from: Data(json.utf8))
    }
}
