import ArgumentParser
import Foundation
import NIOPosix
import SDWANCore
import SDWANIO
import SDWANNode
import SDWANWANEmulator

/// `sdwan demo`: README's main job, live on loopback (docs/demo.md). Starts a hub, the WAN
/// emulator with topologies/retail-branch.yaml and a branch edge as child processes, sends voice,
/// POS and bulk traffic through UDP port forwards, steers the emulator through a timeline
/// (broadband degrades, MPLS blacks out and returns) while a live table shows what the edge sees,
/// then prints a summary from the emulator's ground truth and the nodes' metrics. Exits 1 when an
/// expectation is missed, 130 on SIGINT; every child is stopped and the directory removed.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the retail-branch demo live on loopback: hub, edge and WAN emulator (docs/demo.md)."
    )

    @Option(help: "Seconds of traffic; the timeline scales with it (at least 12).")
    var duration: Double = 40
    @Option(help: "Write the summary as JSON here (docs/live-vs-sim.md).")
    var json: String?
    @Option(help: "The retail-branch topology (default: found from the working directory or the binary).")
    var topology: String?
    @Option(help: "The scenario whose `classes:` block both nodes run (default: simulator/demo-retail.yaml, found).")
    var scenario: String?
    @Option(help: "Seed of the emulator's link models.")
    var seed: UInt64 = 1
    @Flag(help: "Line output even on a terminal.")
    var plain = false

    func validate() throws {
        guard duration >= 12, duration <= 600 else { throw ValidationError("--duration must be 12…600 seconds") }
    }

    func run() throws {
        let interrupt = DemoInterrupt()
        interrupt.install()
        let code = DemoRun(options: self, interrupt: interrupt).perform()
        if code != 0 { throw ExitCode(code) }
    }
}

/// One run of the demo; `perform()` always cleans up before it returns.
struct DemoRun {
    let options: Demo
    let interrupt: DemoInterrupt
    var plan: DemoPlan { DemoPlan(duration: options.duration) }

    func perform() -> Int32 {
        let directory: String
        do {
            directory = try DemoFiles.makeWorkDirectory()
        } catch {
            say("error: \(error)")
            return 2
        }
        let began = Clocks.monotonic()
        say("sdwan demo: work directory \(directory) (mode 0700, removed at exit)")
        let children = DemoChildren()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let traffic = DemoTraffic(loop: group.next(), plan: plan)
        defer {
            traffic.close()
            children.stopAll()
            try? group.syncShutdownGracefully()
            try? FileManager.default.removeItem(atPath: directory)
            say(
                String(
                    format: "stopped every child process; removed %@ (%.1f s in all)",
                    directory,
                    (Clocks.monotonic() - began).seconds
                )
            )
        }
        do {
            let summary = try scenario(directory: directory, children: children, traffic: traffic)
            say(DemoReport.text(summary))
            if let path = options.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(summary).write(to: URL(fileURLWithPath: path))
                say("JSON summary written to \(path)")
            }
            return summary.passed ? 0 : 1
        } catch is DemoInterrupted {
            say("\ninterrupted (signal \(interrupt.received ?? 0)): stopping")
            return 130
        } catch {
            say("error: \(error)")
            return 2
        }
    }

    private func scenario(directory: String, children: DemoChildren, traffic: DemoTraffic) throws -> DemoSummary {
        let topologyPath = try Self.locate("topologies/retail-branch.yaml", given: options.topology)
        let scenarioPath = try Self.locate("simulator/demo-retail.yaml", given: options.scenario)
        let classes = try DemoPlan.classesBlock(scenarioPath: scenarioPath)
        let executable = try Self.ownExecutable()
        let keys = try DemoKeys(directory: directory)
        let ports = try DemoPorts.probe()
        try traffic.openSinks()
        let hubConfig = try DemoFiles.writePrivate(
            DemoConfigs.hub(keys: keys, ports: ports, sinks: traffic.sinkPorts.all, classes: classes),
            to: "\(directory)/hub.yaml"
        )
        let edgeConfig = try DemoFiles.writePrivate(
            DemoConfigs.edge(keys: keys, ports: ports, sinks: traffic.sinkPorts, classes: classes),
            to: "\(directory)/edge.yaml"
        )
        let control = UDPEndpoint(address: .v4(0x7F00_0001), port: UInt16(ports.control))
        let edgeStatus = UDPEndpoint(address: .v4(0x7F00_0001), port: UInt16(ports.edgeStatus))
        let hubStatus = UDPEndpoint(address: .v4(0x7F00_0001), port: UInt16(ports.hubStatus))

        let hubPID = try children.start(
            "hub",
            executable: executable,
            arguments: ["hub", "--config", hubConfig],
            log: "\(directory)/hub.log"
        )
        say("started hub   pid \(hubPID)  listen 127.0.0.1:\(ports.hub)")
        let wanemPID = try children.start(
            "wanem",
            executable: executable,
            arguments: [
                "wanem", "run", "--topology", topologyPath, "--hub", "127.0.0.1:\(ports.hub)",
                "--listen", "127.0.0.1:\(ports.wanemBase)", "--control", "\(control)", "--seed", "\(options.seed)",
            ],
            log: "\(directory)/wanem.log"
        )
        say("started wanem pid \(wanemPID)  mpls/broadband/lte on 127.0.0.1:\(ports.wanemBase)…\(ports.wanemBase + 2)")
        try waitFor("the emulator's control socket", seconds: 15, children: children) {
            (try? ControlClient.send("links", to: control, timeout: .milliseconds(300))) != nil
        }
        let edgePID = try children.start(
            "edge",
            executable: executable,
            arguments: ["edge", "--config", edgeConfig],
            log: "\(directory)/edge.log"
        )
        say(
            "started edge  pid \(edgePID)  forwards voice :\(ports.voice) voice-bare :\(ports.voiceBare) pos :\(ports.pos) bulk :\(ports.bulk)"
        )
        try waitFor("the tunnel and links mpls and broadband up", seconds: 20, children: children) {
            guard let s = try? StatusClient.status(from: edgeStatus), let t = s.tunnels.first, t.established
            else { return false }
            return ["mpls", "broadband"].allSatisfy { name in t.links.contains { $0.name == name && $0.state == "up" } }
        }
        say(
            "tunnel established; traffic for \(Int(plan.duration)) s: \(DemoPlan.calls) calls with FEC, "
                + "\(DemoPlan.calls) without, POS every 500 ms, bulk ≤ 3 Mbit/s\n"
        )

        let start = try traffic.startSources(edge: ports)
        var seen = DemoObservations()
        var table = DemoTable(tty: !options.plain && isatty(STDOUT_FILENO) == 1)
        var nextEvent = 0
        var phase = "all links healthy"
        var nextFrame = 1.0
        var nextPoll = 0.0
        let events = plan.events
        var lastTruth: WANEmulatorStats?
        while true {
            try checkChildren(children)
            let now = Clocks.monotonic()
            let t = (now - start).seconds
            if t >= plan.duration { break }
            if nextEvent < events.count, t >= events[nextEvent].at {
                let event = events[nextEvent]
                let sentAt = (Clocks.monotonic() - start).nanoseconds
                let reply = (try? ControlClient.send(event.command, to: control, timeout: .seconds(2))) ?? "no reply"
                if event.command == "mpls down" {
                    seen.cutAtNs = sentAt
                    seen.voiceLinkAtCut = Self.classLinks("voice", seen.edge)
                    seen.mplsRTTAtCutMs = seen.edge?.tunnels.first?.links.first { $0.name == "mpls" }?.rttSeconds
                        .map { $0 * 1_000 }
                }
                phase = "\(Int(event.at)) s: \(event.label)"
                say(String(format: "[%5.1f s] timeline: %@ (wanem ctl %@: %@)", t, event.label, event.command, reply))
                nextEvent += 1
            }
            if t >= nextPoll {
                nextPoll = t + 0.1
                if let s = try? StatusClient.status(from: edgeStatus) {
                    seen.edge = s
                    observeFailover(s, at: (Clocks.monotonic() - start).nanoseconds, into: &seen)
                }
            }
            if t >= nextFrame {
                nextFrame += 1
                seen.hub = (try? StatusClient.status(from: hubStatus)) ?? seen.hub
                if let text = try? ControlClient.send("stats", to: control, timeout: .seconds(1)) {
                    lastTruth = try? WANEmulatorStats(json: text)
                }
                let frame = table.render(
                    seconds: t,
                    duration: plan.duration,
                    phase: phase,
                    edge: seen.edge,
                    hub: seen.hub,
                    truth: lastTruth,
                    record: traffic.record()
                )
                FileHandle.standardOutput.write(Data(frame.utf8))
            }
            _ = interrupt.sleep(0.02)
        }
        traffic.stopSources()
        // What is still in flight (hold queues, FEC groups, the emulator's delays) arrives.
        guard interrupt.sleep(0.5) else { throw DemoInterrupted() }
        seen.edge = (try? StatusClient.status(from: edgeStatus)) ?? seen.edge
        seen.hub = (try? StatusClient.status(from: hubStatus)) ?? seen.hub
        if let text = try? ControlClient.send("stats", to: control, timeout: .seconds(2)) {
            seen.truth = try? WANEmulatorStats(json: text)
        }
        return DemoSummaryBuilder.build(plan: plan, record: traffic.record(), seen: seen)
    }

    /// After the cut: when the edge first shows MPLS down, and when voice first stops using it.
    private func observeFailover(_ status: NodeStatus, at ns: Int64, into seen: inout DemoObservations) {
        guard seen.cutAtNs != nil, let tunnel = status.tunnels.first,
            let mpls = tunnel.links.first(where: { $0.name == "mpls" })
        else { return }
        if seen.detectedAtNs == nil && mpls.state == "down" { seen.detectedAtNs = ns }
        let voice = tunnel.classes.first { $0.name == "voice" }
        if seen.steeredAtNs == nil, let voice, !voice.links.contains(mpls.id) { seen.steeredAtNs = ns }
    }

    static func classLinks(_ name: String, _ status: NodeStatus?) -> String? {
        guard let tunnel = status?.tunnels.first, let c = tunnel.classes.first(where: { $0.name == name }) else {
            return nil
        }
        return c.links.map { id in tunnel.links.first { $0.id == id }?.name ?? "\(id)" }.joined(separator: "+")
    }

    /// Throws on a signal, or when a child has died. Ctrl-C on a terminal signals the children
    /// too (one process group), so a child that exits at that moment is the interrupt, not a fault.
    private func checkChildren(_ children: DemoChildren) throws {
        if interrupt.received != nil { throw DemoInterrupted() }
        guard let dead = children.exited() else { return }
        if !interrupt.sleep(0.3) { throw DemoInterrupted() }
        throw DemoError("\(dead.name) exited (status \(dead.status)):\n\(DemoChildren.tail(dead.log))")
    }

    private func waitFor(_ what: String, seconds: Double, children: DemoChildren, _ ready: () -> Bool) throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            try checkChildren(children)
            if ready() { return }
            guard interrupt.sleep(0.1) else { throw DemoInterrupted() }
        }
        throw DemoError("timed out after \(Int(seconds)) s waiting for \(what)")
    }

    /// `given`, else `relative` in the working directory or above the binary (the repository).
    static func locate(_ relative: String, given: String?) throws -> String {
        if let given {
            guard FileManager.default.fileExists(atPath: given) else { throw DemoError("no file \(given)") }
            return given
        }
        var candidates = [FileManager.default.currentDirectoryPath + "/" + relative]
        var directory = URL(fileURLWithPath: (try? ownExecutable()) ?? "/").deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent(relative).path)
            directory.deleteLastPathComponent()
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw DemoError("cannot find \(relative); run from the repository or name the file")
        }
        return found
    }

    /// The running binary, so that the children are the same build.
    static func ownExecutable() throws -> String {
        do {
            return try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        } catch {
            throw DemoError("cannot resolve /proc/self/exe: \(error)")
        }
    }

    private func say(_ text: String) {
        print(text)
        fflush(nil)
    }
}

/// Thrown when SIGINT or SIGTERM arrives.
struct DemoInterrupted: Error {}
