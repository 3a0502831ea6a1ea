import SDWANCore
import Testing

@Suite struct PrefixTableTests {
    /// The longest prefix holding the address wins; among equal prefixes the first added. Checked
    /// by brute force over random IPv4 and IPv6 prefixes, for a small table (walked) and a large
    /// one (hashed per length).
    @Test(arguments: [10, 600])
    func longestPrefixMatchesABruteForceWalk(entries: Int) {
        var random = SeededRandomSource(seed: UInt64(entries))
        let v4Lengths = [0, 8, 12, 16, 20, 24, 28, 32]
        let v6Lengths = [0, 32, 48, 56, 64, 96, 128]
        var prefixes: [IPPrefix] = []
        for _ in 0..<entries {
            // Few distinct high bits, so prefixes nest and collide (equal prefixes included).
            if random.next() % 4 == 0 {
                let high = 0x2001_0DB8_0000_0000 | (random.next() % 8) << 16 | random.next() % 4
                let address = IPAddress.v6(high: high, low: random.next() % 3)
                prefixes.append(IPPrefix(address: address, length: v6Lengths[Int(random.next() % 7)])!)
            } else {
                let address = IPAddress.v4(
                    0x0A00_0000 | UInt32(random.next() % 4) << 16 | UInt32(random.next() % 6) << 8
                )
                prefixes.append(IPPrefix(address: address, length: v4Lengths[Int(random.next() % 8)])!)
            }
        }
        let table = PrefixTable(prefixes.enumerated().map { ($0.element, $0.offset) })
        #expect(!table.isEmpty)
        for _ in 0..<5_000 {
            let address: IPAddress =
                random.next() % 4 == 0
                ? .v6(
                    high: 0x2001_0DB8_0000_0000 | (random.next() % 8) << 16 | random.next() % 4,
                    low: random.next() % 3
                )
                : .v4(
                    0x0A00_0000 | UInt32(random.next() % 5) << 16 | UInt32(random.next() % 7) << 8
                        | UInt32(random.next() % 3)
                )
            var best: (length: Int, index: Int)?
            for (i, p) in prefixes.enumerated() where p.contains(address) {
                if best == nil || p.length > best!.length { best = (p.length, i) }
            }
            #expect(table.lookup(address) == best?.index, "\(address)")
        }
    }

    @Test func anEmptyTableRoutesNothing() {
        let table = PrefixTable<Int>([])
        #expect(table.isEmpty && table.lookup(IPAddress("10.0.0.1")!) == nil)
    }
}
