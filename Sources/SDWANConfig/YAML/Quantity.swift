/// Parsers for the quantities configuration files write with units. Pure functions of the text, so
/// they are tested on their own; `ConfigValue` wraps them with file/line errors.
public enum Quantity {
    static let durationSyntax = "a duration with a unit: ns, us, ms, s, min or h (e.g. 30ms, 1.5s; 0 needs none)"
    static let rateSyntax = "a bit rate: bit, kbit, mbit or gbit per second (e.g. 20mbit, 1.5gbit; mbps also accepted)"
    static let sizeSyntax = "a size in bytes: B, kB, MB, KiB or MiB (e.g. 1500, 64kB)"

    /// Nanoseconds in `30ms`, `1.5s`, `250us`, `2min`, `1h`, `100ns`, `0`. Negative values are
    /// returned as such (the caller decides whether they are allowed); `nil` if malformed.
    public static func parseDurationNanoseconds(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("min", 60e9), ("h", 3600e9),
        ]
        guard let (number, unit) = split(text) else { return nil }
        if unit.isEmpty { return number == 0 ? 0 : nil }
        guard let scale = units.first(where: { $0.0 == unit })?.1 else { return nil }
        let ns = number * scale
        guard abs(ns) < 9.2e18 else { return nil }
        return Int64(ns.rounded())
    }

    /// Bits per second in `20mbit`, `512kbit`, `1.5gbit`, `9600bit`, `100mbps` (SI: k = 1000).
    public static func parseBitsPerSecond(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("bit", 1), ("bps", 1), ("kbit", 1e3), ("kbps", 1e3), ("mbit", 1e6), ("mbps", 1e6),
            ("gbit", 1e9), ("gbps", 1e9),
        ]
        guard let (number, unit) = split(text), let scale = units.first(where: { $0.0 == unit.lowercased() })?.1 else {
            return nil
        }
        let bits = number * scale
        guard bits >= 1, bits < 1e15 else { return nil }
        return Int64(bits.rounded())
    }

    /// Bytes in `1500`, `1500B`, `64kB` (1000), `64KB` (1000), `2MB`, `64KiB` (1024), `1MiB`.
    public static func parseBytes(_ text: String) -> Int? {
        let units: [(String, Double)] = [
            ("", 1), ("B", 1), ("kB", 1e3), ("KB", 1e3), ("MB", 1e6), ("KiB", 1024), ("MiB", 1_048_576),
        ]
        guard let (number, unit) = split(text), let scale = units.first(where: { $0.0 == unit })?.1 else { return nil }
        let bytes = (number * scale).rounded()
        guard bytes >= 0, bytes < 1e15, bytes == number * scale else { return nil }
        return Int(bytes)
    }

    /// A ratio: `2%` → 0.02, `0.02` → 0.02, `0.5 %` → 0.005.
    public static func parseRatio(_ text: String) -> Double? {
        guard let (number, unit) = split(text) else { return nil }
        switch unit {
        case "%": return number / 100
        case "": return number
        default: return nil
        }
    }

    /// `0.02` → "2 %".
    static func percent(_ ratio: Double) -> String {
        let p = ratio * 100
        return p == p.rounded() ? "\(Int(p)) %" : "\(p) %"
    }

    /// Splits `"1.5 ms"` into (1.5, "ms"); `nil` when there is no leading number.
    private static func split(_ text: String) -> (Double, String)? {
        let trimmed = text.filter { $0 != "_" }
        var numberEnd = trimmed.startIndex
        for index in trimmed.indices {
            let c = trimmed[index]
            if c.isNumber || c == "." || ((c == "-" || c == "+") && index == trimmed.startIndex)
                || c == "e" && index != trimmed.startIndex
                    && trimmed.index(after: index) < trimmed.endIndex
                    && (trimmed[trimmed.index(after: index)].isNumber
                        || "+-".contains(trimmed[trimmed.index(after: index)]))
            {
                numberEnd = trimmed.index(after: index)
            } else {
                break
            }
        }
        guard numberEnd > trimmed.startIndex, let number = Double(trimmed[..<numberEnd]), number.isFinite else {
            return nil
        }
        let unit = trimmed[numberEnd...].trimmingSpaces()
        return (number, unit)
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
