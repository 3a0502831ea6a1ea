import ArgumentParser
import Dispatch
import Foundation
import SDWANConfig
import SDWANCore
import SDWANWANEmulator

/// `sdwan wanem`: the userspace WAN emulator (docs/wanem.md).
struct WANEm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wanem",
        abstract:
            "Userspace WAN emulator: relay UDP between edge links and the hub through the topology's link models.",
        subcommands: [WANEmRun.self, WANEmCtl.self],
        defaultSubcommand: WANEmRun.self
    )
}

/// `sdwan wanem [run] --topology FILE …`.
struct WANEmRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Run the relay until SIGINT/SIGTERM (or --duration): link i of the branch listens on --listen port + i."
    )

    @Option(help: "Topology file (topologies/README.md).")
    var topology: String
    @Option(help: "Timeline or scenario file: a `timeline:` list and an optional `wanem:` block (docs/wanem.md).")
    var timeline: String?
    @Option(help: "The hub's address, e.g. 127.0.0.1:51820 (or `hub:` in the wanem block).")
    var hub: String?
    @Option(help: "First edge-facing address; link i listens on its port + i. Default 127.0.0.1:40000.")
    var listen: String?
    @Option(
        name: .customLong("hub-facing"),
        help: "Local address of the hub-facing sockets (default: the listen address)."
    )
    var hubFacing: String?
    @Option(help: "Control socket, loopback only. Default 127.0.0.1:39999.")
    var control: String?
    @Flag(name: .customLong("no-control"), help: "Open no control socket.")
    var noControl = false
    @Option(help: "Branch to emulate (needed when the topology has several).")
    var branch: String?
    @Option(help: "Seed of the link models' generators (default 1).")
    var seed: UInt64?
    @Option(help: "Write the ground truth JSON here at exit.")
    var json: String?
    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    func run() throws {
        let topologyValue: Topology
        var timelineValue = Timeline.empty
        var file = WANEmulatorFileSettings()
        do {
            topologyValue = try Topology.load(path: topology)
            if let timeline {
                let document = try ConfigDocument.load(path: timeline)
                timelineValue = try Timeline.decode(document: document)
                file = try WANEmulatorFileSettings.decode(document: document)
            }
            try timelineValue.validate(against: topologyValue)
        } catch {
            throw ValidationError("\(error)")
        }
        func endpoint(_ text: String?, _ flag: String) throws -> UDPEndpoint? {
            guard let text else { return nil }
            guard let value = UDPEndpoint(text) else {
                throw ValidationError(
                    "--\(flag) `\(text)` is not an address and port (e.g. 127.0.0.1:51820, [::1]:51820)"
                )
            }
            return value
        }
        guard let hubEndpoint = try endpoint(hub, "hub") ?? file.hub else {
            throw ValidationError("no hub address: give --hub 127.0.0.1:51820 or `hub:` in the wanem block")
        }
        let listenEndpoint = try endpoint(listen, "listen") ?? file.listen ?? UDPEndpoint("127.0.0.1:40000")!
        var hubFacingAddress = file.hubFacing
        if let hubFacing {
            guard let address = IPAddress(hubFacing) else {
                throw ValidationError("--hub-facing `\(hubFacing)` is not an IP address")
            }
            hubFacingAddress = address
        }
        var controlEndpoint: UDPEndpoint? =
            try endpoint(control, "control") ?? file.control ?? WANEmulatorConfiguration.defaultControl
        if noControl { controlEndpoint = nil }
        if let controlEndpoint, !WANEmulatorConfiguration.isLoopback(controlEndpoint.address) {
            throw ValidationError("--control \(controlEndpoint) is not loopback; the control socket is unauthenticated")
        }
        let configuration = WANEmulatorConfiguration(
            hub: hubEndpoint,
            listen: listenEndpoint,
            hubFacing: hubFacingAddress,
            control: controlEndpoint,
            branch: branch ?? file.branch,
            seed: seed ?? file.seed ?? 1
        )

        // Block the signals first so that none is lost between start and the handlers.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let done = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "sdwan.wanem.signals")
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { done.signal() }
            source.resume()
            return source
        }
        if let duration {
            queue.asyncAfter(deadline: .now() + duration) { done.signal() }
        }

        let process: WANEmulatorProcess
        do {
            process = try WANEmulatorProcess.start(
                topology: topologyValue,
                timeline: timelineValue,
                configuration: configuration
            )
        } catch {
            throw ValidationError("\(error)")
        }
        print("sdwan wanem: branch \(process.emulator.branch.name) of \(topologyValue.name), hub \(hubEndpoint)")
        print((try? process.linkTable()) ?? "")
        if let controlEndpoint {
            print("control \(controlEndpoint): sdwan wanem ctl --control \(controlEndpoint) stats")
        }
        fflush(nil)
        done.wait()
        for source in sources { source.cancel() }
        let stats = try process.stop()
        let timing = stats.timing
        print(
            "stopped after \(String(format: "%.1f", stats.uptimeSeconds)) s; delivery lateness p50 "
                + "\(timing.p50Microseconds) µs, p99 \(timing.p99Microseconds) µs over \(timing.samples) datagrams"
        )
        if let json {
            do {
                try (stats.jsonText + "\n").write(toFile: json, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("cannot write --json \(json): \(error.localizedDescription)")
            }
        }
    }
}

/// `sdwan wanem ctl …`: one command to a running emulator.
struct WANEmCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract:
            "Steer a running emulator: ctl LINK down|up|loss 2%|delay 80ms|rate 5mbit|mtu 1400|reset|rebind, ctl stats.",
        discussion: ControlCommand.usage
    )

    @Option(help: "The emulator's control socket.")
    var control: String = "127.0.0.1:39999"
    @Argument(help: "The command, e.g. `lte down`, `mpls:up loss 2%`, `stats`.")
    var words: [String]

    func run() throws {
        guard let endpoint = UDPEndpoint(control) else {
            throw ValidationError("--control `\(control)` is not an address and port")
        }
        let command = words.joined(separator: " ")
        // Refuse a malformed command here, with the same message the emulator would give.
        do {
            _ = try ControlCommand.parse(command)
        } catch {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
        let reply: String
        do {
            reply = try ControlClient.send(command, to: endpoint)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print(reply)
        if reply.hasPrefix("error:") { throw ExitCode(1) }
    }
}
