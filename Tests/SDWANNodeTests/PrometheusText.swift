import Foundation

/// A small parser of the Prometheus text format for the tests, and a bridge to the reference
/// parser (`prometheus_client` from PyPI) when it is installed (scripts/install-deps).
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }
    var samples: [Sample] = []

    static func parse(_ text: String) -> PrometheusText {
        var out = PrometheusText()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...]) ?? (line.hasSuffix("+Inf") ? .infinity : nil)
            else { continue }
            let key = line[..<space]
            var labels: [String: String] = [:]
            var name = String(key)
            if let brace = key.firstIndex(of: "{") {
                name = String(key[..<brace])
                let inner = key[key.index(after: brace)..<key.index(before: key.endIndex)]
                for pair in inner.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
            }
            out.samples.append(Sample(name: name, labels: labels, value: value))
        }
        return out
    }

    /// The value of the sample whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }?.value
    }

    /// Whether a histogram's buckets never decrease with `le`.
    func bucketsAreCumulative(_ name: String, _ labels: [String: String]) -> Bool {
        let buckets = samples.filter { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }
            .map { (Double($0.labels["le"]!) ?? .infinity, $0.value) }.sorted { $0.0 < $1.0 }
        return !buckets.isEmpty && zip(buckets, buckets.dropFirst()).allSatisfy { $0.1 <= $1.1 }
    }

    /// Parses `text` with `prometheus_client.parser.text_string_to_metric_families` and checks,
    /// for every histogram, that the +Inf bucket equals `_count`: "ok N families" or the error;
    /// `nil` when python3 or the module is missing.
    static func pythonParserVerdict(_ text: String) -> String? {
        let script = """
            import sys
            try:
                from prometheus_client.parser import text_string_to_metric_families
            except ImportError:
                print("missing"); sys.exit(0)
            fams = list(text_string_to_metric_families(sys.stdin.read()))
            bad = []
            for f in fams:
                if f.type != "histogram": continue
                series = {}
                for s in f.samples:
                    key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                    series.setdefault(key, {})
                    if s.name.endswith("_bucket") and s.labels["le"] == "+Inf": series[key]["inf"] = s.value
                    if s.name.endswith("_count"): series[key]["count"] = s.value
                for key, v in series.items():
                    if v.get("inf") != v.get("count"): bad.append((f.name, key))
            print("ok %d families" % len(fams) if not bad else "bad %r" % bad)
            """
        let process = Process()
        // Debian's python3, where the python3-prometheus-client package installs.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch { return nil }
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let verdict = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return verdict == "missing" ? nil : verdict
    }
}
