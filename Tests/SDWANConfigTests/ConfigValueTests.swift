import SDWANConfig
import Testing

/// The YAML layer keeps source positions and refuses what it was not told about.
@Suite struct ConfigValueTests {
    static let text = """
        name: demo
        items:
          - size: 64kB
            wait: 30ms
          - size: 1500
            wiat: 10ms
        """

    @Test func errorsNameFileLineColumnAndFieldPath() throws {
        let root = try ConfigDocument.parse(Self.text, file: "demo.yaml")
        let items = try root.mapping(allowing: ["name", "items"]).required("items", expected: "a list").sequence()
        #expect(items.count == 2)
        let first = try items[0].mapping(allowing: ["size", "wait"])
        #expect(try first.required("size", expected: "").byteSize() == 64_000)
        #expect(try first.required("wait", expected: "").duration() == .milliseconds(30))
        #expect(first["wait"]?.line == 4)
        do {
            _ = try items[1].mapping(allowing: ["size", "wait"])
            Issue.record("an unknown key was accepted")
        } catch {
            #expect(error.file == "demo.yaml")
            #expect(error.line == 6)
            #expect(error.column == 5)
            #expect(error.field == "items[1].wiat")
            #expect(error.description.hasPrefix("demo.yaml:6:5: items[1].wiat: unknown field `wiat`"))
            #expect(error.description.contains("`wait`?"))
        }
    }

    @Test func duplicateKeysAreErrors() {
        do {
            _ = try ConfigDocument.parse("x: 0\nm:\n  a: 1\n  b: 2\n  a: 3\n", file: "dup.yaml")
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.line == 5, "\(error)")
            #expect(error.description.hasPrefix("dup.yaml:5:3:"))
            #expect(error.description.contains("`a` appears twice"), "\(error)")
        }
    }

    @Test func missingFieldNamesTheMappingsLineAndTheField() throws {
        let root = try ConfigDocument.parse("outer:\n  inner:\n    x: 1\n", file: "f.yaml")
        let inner = try root.mapping(allowing: ["outer"]).required("outer", expected: "").mapping(allowing: ["inner"])
            .required("inner", expected: "").mapping(allowing: ["x", "y"])
        do {
            _ = try inner.required("y", expected: "a number")
            Issue.record("a missing field was not reported")
        } catch {
            #expect(error.line == 3 && error.field == "outer.inner.y")
            #expect(error.description == "f.yaml:3:5: outer.inner.y: required field `y` is missing; expected a number")
        }
    }

    @Test func malformedYAMLReportsItsPosition() {
        do {
            _ = try ConfigDocument.parse("a: [1, 2\nb: 3\n", file: "bad.yaml")
            Issue.record("malformed YAML was accepted")
        } catch {
            #expect(error.file == "bad.yaml")
            #expect(error.line != nil)
            #expect(error.problem.hasPrefix("not valid YAML"))
        }
        #expect(throws: ConfigError.self) { try ConfigDocument.parse("", file: "empty.yaml") }
    }

    @Test func typedScalarsRefuseTheWrongKind() throws {
        let root = try ConfigDocument.parse("n: twelve\nr: 150%\nb: yes\nl: [1]\nc: purple\n", file: "t.yaml")
        let m = try root.mapping(allowing: ["n", "r", "b", "l", "c"])
        #expect(throws: ConfigError.self) { try m["n"]!.int() }
        #expect(throws: ConfigError.self) { try m["r"]!.ratio() }
        #expect(throws: ConfigError.self) { try m["b"]!.bool() }
        #expect(throws: ConfigError.self) { try m["l"]!.string() }
        do {
            _ = try m["c"]!.choice([("red", 1), ("green", 2)])
        } catch {
            #expect(error.line == 5 && error.description.contains("one of: red, green"))
        }
    }
}
