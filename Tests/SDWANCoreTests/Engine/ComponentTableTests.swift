import SDWANCore
import Testing

@Suite struct ComponentTableTests {
    private final class Tracked {
        var value: Int
        init(_ value: Int) { self.value = value }
    }

    private struct Component {
        var counter = 0
        var items: [Int] = []
        var tracked: Tracked
    }

    /// Appends through several doublings, in-place changes through the subscript, reads in order,
    /// and a replacement of everything, against a plain array.
    @Test func matchesAPlainArray() {
        let table = ComponentTable<Component>()
        var reference: [Component] = []
        for i in 0..<100 {
            let c = Component(tracked: Tracked(i))
            table.append(c)
            reference.append(c)
            let j = i * 7 % table.count
            table[j].counter += i
            table[j].items.append(i)
            reference[j].counter += i
            reference[j].items.append(i)
        }
        #expect(table.count == reference.count)
        #expect(table.map(\.counter) == reference.map(\.counter))
        #expect(table.map(\.items) == reference.map(\.items))
        #expect(table.indices == reference.indices)
        let kept = Array(reference.suffix(3))
        table.replaceAll(with: kept)
        #expect(table.count == 3)
        #expect(table.map(\.counter) == kept.map(\.counter))
        #expect(table.map { $0.tracked.value } == [97, 98, 99])
    }

    /// The table is a reference: a change made through one holder is seen by the other, and no
    /// element is copied by a change (an array would have copied the whole buffer here).
    @Test func sharesItsElementsAndChangesThemInPlace() {
        let table = ComponentTable([Component(tracked: Tracked(1))])
        let alias = table
        alias[0].counter = 5
        #expect(table[0].counter == 5)
    }

    /// Elements are released when replaced and when the table goes away (no leak of what the
    /// engine's components hold: buffers, sessions).
    @Test func releasesItsElements() {
        weak var first: Tracked?
        weak var second: Tracked?
        do {
            let table = ComponentTable<Component>()
            do {
                let a = Tracked(1)
                let b = Tracked(2)
                first = a
                second = b
                table.append(Component(tracked: a))
                table.append(Component(tracked: b))
            }
            #expect(first != nil && second != nil)
            table.replaceAll(with: [Component(tracked: Tracked(3))])
            #expect(first == nil && second == nil)
            withExtendedLifetime(table) {}
        }
        #expect(first == nil)
    }
}
