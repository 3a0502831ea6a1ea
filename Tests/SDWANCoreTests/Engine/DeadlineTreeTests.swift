import SDWANCore
import Testing

@Suite struct DeadlineTreeTests {
    /// Random appends (through several doublings), sets and rebuilds against a plain array: the
    /// count, each entry, the earliest entry, and the due entries in index order from any start at
    /// any limit (an entry without a deadline is never due).
    @Test func matchesAPlainArrayUnderRandomChanges() {
        var random = SeededRandomSource(seed: 77)
        var tree = DeadlineTree()
        var reference: [Instant?] = []
        func draw() -> Instant? {
            random.next() % 5 == 0 ? nil : Instant(nanoseconds: Int64(random.next() % 1_000))
        }
        for step in 0..<4_000 {
            switch random.next() % 10 {
            case 0...2:
                let d = draw()
                tree.append(d)
                reference.append(d)
            case 3 where step % 200 == 3:
                reference = (0..<Int(random.next() % 40)).map { _ in draw() }
                tree.rebuild(reference)
            default:
                guard !reference.isEmpty else { continue }
                let i = Int(random.next() % UInt64(reference.count))
                let d = draw()
                tree.set(i, d)
                reference[i] = d
            }
            #expect(tree.count == reference.count)
            #expect(tree.earliest == reference.compactMap { $0 }.min())
            if !reference.isEmpty {
                let i = Int(random.next() % UInt64(reference.count))
                #expect(tree.deadline(i) == reference[i])
            }
            let limit = Instant(nanoseconds: Int64(random.next() % 1_100))
            let start = Int(random.next() % UInt64(reference.count + 2))
            var due: [Int] = []
            var from = start
            while let i = tree.firstDue(from: from, atOrBefore: limit) {
                due.append(i)
                from = i + 1
            }
            let expected = reference.indices.filter { $0 >= start && reference[$0].map { $0 <= limit } == true }
            #expect(due == expected)
        }
        #expect(reference.count > 300)
    }

    @Test func anEmptyTreeHasNothingDue() {
        var tree = DeadlineTree()
        #expect(tree.earliest == nil)
        #expect(tree.firstDue(from: 0, atOrBefore: Instant(nanoseconds: .max)) == nil)
        tree.append(nil)
        #expect(tree.earliest == nil && tree.firstDue(from: 0, atOrBefore: Instant(nanoseconds: .max - 1)) == nil)
    }
}
