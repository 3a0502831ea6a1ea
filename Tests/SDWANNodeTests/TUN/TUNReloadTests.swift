import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP in TUN mode, in network namespaces (TUNRig): routes and addresses follow the new file
/// (docs/operations.md "Reload"). On the hub the TUN routes every branch's prefixes by default, so
/// a branch added by a reload must get its route into the device at once, not at the next restart.
@Suite(.serialized, .enabled(if: Netns.available && Netns.haveTools(["ping"])), .timeLimit(.minutes(3)))
struct TUNReloadTests {
    @Test func reloadRoutesAnAddedBranchIntoTheHubTUNAndMovesTheEdgeRoutes() async throws {
        let rig = try TUNRig(prefix: "r")
        do {
            try await rig.setUp()
            try await rig.startNodes()
            let hub = try #require(rig.hub)
            let edge = try #require(rig.edge)
            let tun = rig.dev("tun")

            // The hub: a second branch, whose LAN is routed into the hub's TUN from the reload on.
            let store2 = try await rig.key("store2")
            let hubPath = "\(rig.directory)/hub.yaml"
            let hubText = try String(contentsOfFile: hubPath, encoding: .utf8).replacingOccurrences(
                of: "ingress:\n",
                with: "  - name: store2\n    public_key: \"\(store2.publicKey)\"\n"
                    + "    allowed_prefixes: [10.251.30.0/24]\ningress:\n"
            )
            try hubText.write(toFile: hubPath, atomically: false, encoding: .utf8)
            #expect(try await !rig.exec("H", ["ip", "route", "show", "dev", tun]).stdout.contains("10.251.30.0/24"))
            kill(hub.process.processIdentifier, SIGHUP)
            #expect(await hub.waitForLog("tun routes changed: +10.251.30.0/24"), "hub log: \(hub.log)")
            let hubRoutes = try await rig.exec("H", ["ip", "route", "show", "dev", tun]).stdout
            #expect(hubRoutes.contains("10.251.30.0/24"), "\(hubRoutes)")

            // The edge: one route added, the IPv6 one removed, an address added.
            let edgePath = "\(rig.directory)/edge.yaml"
            let edgeText = try String(contentsOfFile: edgePath, encoding: .utf8)
                .replacingOccurrences(
                    of: "routes: [10.251.20.0/24, \"fd51:20::/64\"]",
                    with: "routes: [10.251.20.0/24, 10.251.40.0/24]"
                )
                .replacingOccurrences(
                    of: "addresses: [10.251.255.1/32, \"fd51:ff::1/128\"]",
                    with: "addresses: [10.251.255.1/32, 10.251.255.9/32, \"fd51:ff::1/128\"]"
                )
            try edgeText.write(toFile: edgePath, atomically: false, encoding: .utf8)
            kill(edge.process.processIdentifier, SIGHUP)
            #expect(
                await edge.waitForLog("tun routes changed: +10.251.40.0/24 -fd51:20::/64"),
                "edge log: \(edge.log)"
            )
            let v4 = try await rig.exec("E", ["ip", "-4", "route", "show", "dev", tun]).stdout
            let v6 = try await rig.exec("E", ["ip", "-6", "route", "show", "dev", tun]).stdout
            let addresses = try await rig.exec("E", ["ip", "addr", "show", "dev", tun]).stdout
            #expect(v4.contains("10.251.40.0/24") && v4.contains("10.251.20.0/24"), "\(v4)")
            #expect(!v6.contains("fd51:20::/64"), "\(v6)")
            #expect(addresses.contains("10.251.255.9/32"), "\(addresses)")
            // The tunnel carries on: the branch still reaches the server over IPv4.
            #expect(try await rig.exec("B", ["ping", "-c", "3", "-W", "2", TUNRig.serverV4]).ok)
            #expect(!edge.log.contains("reload refused") && !hub.log.contains("reload refused"))
        } catch {
            await rig.tearDown()
            throw error
        }
        await rig.tearDown()
    }
}
