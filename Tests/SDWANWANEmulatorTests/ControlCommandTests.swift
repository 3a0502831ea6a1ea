import NIOCore
import NIOPosix
import SDWANConfig
import SDWANCore
import SDWANLinkModel
import SDWANWANEmulator
import Testing

/// A one-thread group shut down synchronously, for tests that need a loop but no traffic.
final class MultiThreadedEventLoopGroupBox: Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var loop: any EventLoop { group.next() }
    func shutdown() { try? group.syncShutdownGracefully() }
}

@Suite struct ControlCommandTests {
    @Test(arguments: [
        ("stats", ControlCommand.stats),
        ("links", .links),
        ("lte down", .link(name: "lte", direction: .both, action: .cut)),
        ("lte:up cut", .link(name: "lte", direction: .up, action: .cut)),
        ("lte:down up", .link(name: "lte", direction: .down, action: .restore)),
        ("lte loss 2%", .link(name: "lte", direction: .both, action: .loss(.bernoulli(p: 0.02)))),
        ("lte loss none", .link(name: "lte", direction: .both, action: .loss(.none))),
        (
            "lte loss 1% burst 3",
            .link(name: "lte", direction: .both, action: .loss(.gilbert(lossRatio: 0.01, meanBurst: 3)))
        ),
        ("lte delay 80ms", .link(name: "lte", direction: .both, action: .delay(.milliseconds(80), jitter: nil))),
        (
            "lte delay 80ms jitter 5ms",
            .link(
                name: "lte",
                direction: .both,
                action: .delay(.milliseconds(80), jitter: .normal(std: .milliseconds(5)))
            )
        ),
        (
            "lte rate 8mbit queue 10ms",
            .link(
                name: "lte",
                direction: .both,
                action: .rate(RateLimit(bitsPerSecond: 8_000_000, queueLimit: .bytes(10_000)))
            )
        ),
        ("lte rate unlimited", .link(name: "lte", direction: .both, action: .rate(nil))),
        ("lte mtu 1400", .link(name: "lte", direction: .both, action: .mtu(1_400))),
        ("lte mtu none", .link(name: "lte", direction: .both, action: .mtu(nil))),
        ("lte duplicate 1%", .link(name: "lte", direction: .both, action: .duplicate(0.01))),
        ("  lte   rebind ", .link(name: "lte", direction: .both, action: .rebind)),
    ])
    func wellFormedCommandsParse(line: String, expected: ControlCommand) throws {
        #expect(try ControlCommand.parse(line) == expected)
    }

    @Test(arguments: [
        ("", "empty command"),
        ("stats now", "`stats` takes no arguments"),
        ("lte", "`lte` needs an action"),
        ("lte explode", "unknown action `explode`"),
        ("lte:sideways down", "direction `sideways` is not `up` or `down`"),
        ("lte:both down", "direction `both` is not `up` or `down`"),
        (":up down", "a link name is missing"),
        ("lte down now", "`down` takes no arguments"),
        ("lte loss", "usage: loss 2%"),
        ("lte loss 100%", "`100%` is not a loss ratio"),
        ("lte loss -1%", "`-1%` is not a loss ratio"),
        ("lte loss 1% burst 0.5", "`0.5` is not a mean burst"),
        ("lte delay fast", "`fast` is not a duration"),
        ("lte delay -5ms", "`-5ms` is not a duration"),
        ("lte rate 5 apples", "usage: rate 5mbit"),
        ("lte rate fast", "`fast` is not a bit rate"),
        ("lte rate 5mbit queue lots", "`lots` is not a queue"),
        ("lte mtu 20", "`20` is not an MTU"),
        ("lte duplicate 2", "`2` is not a duplication ratio"),
        ("lte:up rebind", "`rebind` acts on the link's socket"),
    ])
    func malformedCommandsAreRefusedWithWhatIsValid(line: String, message: String) {
        #expect(throws: ControlCommandError.self) { _ = try ControlCommand.parse(line) }
        do {
            _ = try ControlCommand.parse(line)
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func loopbackAddressesOnly() {
        #expect(WANEmulatorConfiguration.isLoopback(IPAddress("127.0.0.1")!))
        #expect(WANEmulatorConfiguration.isLoopback(IPAddress("127.9.8.7")!))
        #expect(WANEmulatorConfiguration.isLoopback(IPAddress("::1")!))
        #expect(!WANEmulatorConfiguration.isLoopback(IPAddress("0.0.0.0")!))
        #expect(!WANEmulatorConfiguration.isLoopback(IPAddress("::")!))
        #expect(!WANEmulatorConfiguration.isLoopback(IPAddress("10.0.0.1")!))
    }
}
