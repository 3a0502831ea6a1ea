import ArgumentParser

/// The `sdwan` command line: the process shell around the pure core.
@main
struct SDWANCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdwan",
        abstract: "SD-WAN tunnel proxy: branch edge, hub concentrator, offline link-loss simulator and WAN emulator.",
        subcommands: [
            Edge.self, Hub.self, Check.self, Status.self, Simulate.self, WANEm.self, GenKey.self, PubKey.self,
            GenPSK.self, SelfCheck.self, Demo.self,
        ]
    )
}
