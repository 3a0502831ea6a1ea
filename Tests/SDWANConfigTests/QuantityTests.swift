import SDWANConfig
import Testing

/// The unit parsers accept what docs/simulator.md documents and refuse what it does not.
@Suite struct QuantityTests {
    @Test(arguments: [
        ("30ms", Int64(30_000_000)), ("1.5s", 1_500_000_000), ("250us", 250_000), ("250µs", 250_000),
        ("100ns", 100), ("2min", 120_000_000_000), ("1h", 3_600_000_000_000), ("0", 0), ("0ms", 0),
        ("-5ms", -5_000_000), ("1_000ms", 1_000_000_000), ("20 ms", 20_000_000),
    ])
    func durationsParse(text: String, nanoseconds: Int64) {
        #expect(Quantity.parseDurationNanoseconds(text) == nanoseconds)
    }

    @Test(arguments: ["30", "ms", "1.5 parsecs", "3m", "", "1e400s", "fast"])
    func malformedDurationsAreRefused(text: String) {
        #expect(Quantity.parseDurationNanoseconds(text) == nil)
    }

    @Test(arguments: [
        ("20mbit", Int64(20_000_000)), ("512kbit", 512_000), ("1.5gbit", 1_500_000_000), ("9600bit", 9_600),
        ("100Mbps", 100_000_000), ("2.5 mbit", 2_500_000),
    ])
    func ratesParse(text: String, bitsPerSecond: Int64) {
        #expect(Quantity.parseBitsPerSecond(text) == bitsPerSecond)
    }

    @Test(arguments: ["20", "20MB", "mbit", "-1mbit", "0.5bit"])
    func malformedRatesAreRefused(text: String) {
        #expect(Quantity.parseBitsPerSecond(text) == nil)
    }

    @Test func sizesAndRatiosParse() {
        #expect(Quantity.parseBytes("1500") == 1500)
        #expect(Quantity.parseBytes("64kB") == 64_000)
        #expect(Quantity.parseBytes("64KiB") == 65_536)
        #expect(Quantity.parseBytes("1MiB") == 1_048_576)
        #expect(Quantity.parseBytes("1.5B") == nil)
        #expect(Quantity.parseBytes("12 parsecs") == nil)
        #expect(Quantity.parseRatio("2%") == 0.02)
        #expect(Quantity.parseRatio("0.5 %") == 0.005)
        #expect(Quantity.parseRatio("0.02") == 0.02)
        #expect(Quantity.parseRatio("2 percent") == nil)
    }
}
