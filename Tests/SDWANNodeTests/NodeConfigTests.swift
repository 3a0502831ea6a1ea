import Foundation
import SDWANConfig
import SDWANCore
import Testing

/// Bad node configs give the documented errors (docs/operations.md, "Errors"): file, line, field
/// and what would be valid.
struct NodeConfigTests {
    static let key = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
    static let key2 = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="

    static func hub(branches: String, listen: String = "[\"127.0.0.1:51820\"]") -> String {
        """
        role: hub
        name: hub1
        identity: { private_key_file: /etc/sdwan/hub.key }
        listen: \(listen)
        branches:
        \(branches)
        """
    }

    static func error(_ text: String) -> ConfigError? {
        do {
            _ = try NodeConfig.parse(text, file: "node.yaml")
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        (
            hub(
                branches: """
                      - { name: a, public_key: "\(key)", allowed_prefixes: [10.1.0.0/24] }
                      - { name: b, public_key: "\(key2)", allowed_prefixes: [10.1.0.128/25] }
                    """
            ),
            7, "branches[1].allowed_prefixes[0]", "10.1.0.128/25 overlaps 10.1.0.0/24 of branch `a`"
        ),
        (
            hub(
                branches: """
                      - { name: a, public_key: "\(key)", allowed_prefixes: [10.1.0.0/24] }
                      - { name: b, public_key: "\(key)", allowed_prefixes: [10.2.0.0/24] }
                    """
            ),
            7, "branches[1].public_key", "branch `a` has the same public key"
        ),
        (
            hub(
                branches: """
                      - { name: a, public_key: "\(key)", allowed_prefixes: [10.1.0.0/24] }
                      - { name: a, public_key: "\(key2)", allowed_prefixes: [10.2.0.0/24] }
                    """
            ),
            7, "branches[1].name", "name `a` is used twice"
        ),
        (
            hub(
                branches: "  - { name: a, public_key: \"\(key)\", allowed_prefixes: [10.1.0.0/24] }",
                listen: "[\"0.0.0.0:51820\"]"
            ),
            4, "listen[0]", "a wildcard listen address cannot send replies from the address a branch used"
        ),
        (
            hub(branches: "  - { name: a, public_key: \"\(key)\", allowed_prefixes: [10.1.0.1/24] }"),
            6, "branches[0].allowed_prefixes[0]", "`10.1.0.1/24` is not a prefix"
        ),
        (
            hub(branches: "  - { name: a, public_key: \"\(key)\", allowed_prefix: [10.1.0.0/24] }"),
            6, "branches[0].allowed_prefix", "unknown field `allowed_prefix`"
        ),
        (
            "role: hub\nname: h\nname: h2\n", 3, "", "field `name` appears twice in one mapping"
        ),
    ])
    func badHubConfigNamesLineFieldAndProblem(text: String, line: Int, field: String, problem: String) throws {
        let error = try #require(Self.error(text))
        #expect(error.file == "node.yaml")
        #expect(error.line == line)
        #expect(error.field == field)
        #expect(error.problem == problem)
        #expect(error.description.hasPrefix("node.yaml:\(line):"))
    }

    static func edge(links: String, extra: String = "") -> String {
        """
        role: edge
        name: store1
        identity: { private_key_file: /etc/sdwan/edge.key }
        hub: { name: hub1, public_key: "\(key)", endpoint: "192.0.2.1:51820" }
        links:
        \(links)
        \(extra)
        """
    }

    @Test(arguments: [
        (
            edge(links: "  - { name: a }\n  - { name: a }"), 7, "links[1]", "link name `a` is used twice"
        ),
        (
            edge(links: "  - { name: a, local: \"2001:db8::1\" }"), 6, "links[0].local",
            "local address 2001:db8::1 and hub endpoint 192.0.2.1:51820 are of different families"
        ),
        (
            edge(
                links: "  - { name: a }",
                extra: """
                    ingress:
                      address: 10.1.0.1
                      udp_forwards:
                        - { name: dns, listen: "127.0.0.1:5353", target: "10.2.0.53:53", class: nosuch }
                    """
            ),
            10, "ingress.udp_forwards[0].class", "no class is called `nosuch`"
        ),
        (
            edge(
                links: "  - { name: a }",
                extra: """
                    classes:
                      - { name: voice, match: { dscp: [46] }, links: [b] }
                      - { name: rest }
                    """
            ),
            8, "classes[0].links[0]", "no link `b`"
        ),
        (
            edge(
                links: "  - { name: a }",
                extra: """
                    classes:
                      - { name: voice }
                      - { name: rest }
                    """
            ),
            9, "classes[1]", "a second class without `match:`"
        ),
        (
            edge(links: "  - { name: a, probe_interval: 10ms }"), 6, "links[0].probe_interval", "10.0ms is out of range"
        ),
    ])
    func badEdgeConfigNamesLineFieldAndProblem(text: String, line: Int, field: String, problem: String) throws {
        let error = try #require(Self.error(text))
        #expect(error.line == line)
        #expect(error.field == field)
        #expect(error.problem == problem)
    }

    @Test func twoLinksOnOneInterfaceWarn() throws {
        let config = try NodeConfig.parse(
            Self.edge(
                links:
                    "  - { name: a, interface: eth1 }\n  - { name: b, interface: eth1 }\n  - { name: c, interface: eth2 }"
            ),
            file: "node.yaml"
        )
        #expect(config.warnings.count == 1)
        #expect(config.warnings.first?.message.hasPrefix("links `a` and `b` would leave by interface eth1") == true)
        #expect(config.warnings.first?.line == 7)
    }

    @Test func classesBlockBuildsTheEngineTable() throws {
        let config = try NodeConfig.parse(
            Self.edge(
                links: "  - { name: a }\n  - { name: lte, metered: true }",
                extra: """
                    classes:
                      - name: pos
                        match: { protocol: [tcp], ports: ["443", "8000-8100"], destination: [10.2.0.0/16] }
                        sla: { loss: 2%, rtt: 400ms }
                        mode: duplicate
                        copies: 2
                        dscp: 18
                        fec: { k: 4, stride: 2, budget: 20ms }
                      - { name: rest, links: [a], metered: false, priority: bulk }
                    """
            ),
            file: "node.yaml"
        )
        guard case .edge(let edge) = config else {
            Issue.record("not an edge")
            return
        }
        let engine = edge.engineConfiguration
        #expect(engine.classes.map(\.name) == ["pos", "rest"])
        #expect(engine.defaultClassIndex == 1)
        #expect(engine.classes[0].mode == .duplicate(copies: 2))
        #expect(engine.classes[0].sla.maxLossRatio == 0.02)
        #expect(engine.classes[0].sla.maxRTT == .milliseconds(400))
        #expect(engine.classes[0].outerDSCP == 18)
        #expect(engine.classRules.count == 1)
        #expect(engine.classRules[0].ports == [443...443, 8000...8100])
        #expect(engine.classRules[0].protocols == [6])
        #expect(engine.fec[0]?.groupSize == 4 && engine.fec[1] == nil)
        #expect(engine.classes[1].allowedLinks == ["a"] && !engine.classes[1].meteredAllowed)
        #expect(engine.links.map(\.id) == [1, 2] && engine.links[1].metered)
    }

    @Test func configWithInlineSecretReadableByOthersIsRefused() throws {
        let path = NSTemporaryDirectory() + "sdwan-inline-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = Self.edge(links: "  - { name: a }").replacingOccurrences(
            of: "private_key_file: /etc/sdwan/edge.key",
            with: "private_key: \"\(Self.key)\""
        )
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o644)
        #expect(throws: ConfigError.self) { try NodeConfig.load(path: path) }
        do {
            _ = try NodeConfig.load(path: path)
        } catch {
            #expect(error.problem.contains("group or others can read it (mode 644)"))
        }
        chmod(path, 0o600)
        #expect(throws: Never.self) { try NodeConfig.load(path: path) }
    }

    @Test func groupReadableKeyFileIsRefusedBySecretCheck() throws {
        let path = NSTemporaryDirectory() + "sdwan-key-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.key.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o640)
        let config = try NodeConfig.parse(
            Self.edge(links: "  - { name: a }").replacingOccurrences(of: "/etc/sdwan/edge.key", with: path),
            file: "node.yaml"
        )
        do {
            try config.verifySecrets()
            Issue.record("a group-readable key file was accepted")
        } catch {
            #expect(error.field == "identity.private_key_file")
            #expect(error.problem.contains("chmod 600"))
        }
    }
}
