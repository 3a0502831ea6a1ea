import ArgumentParser

/// The `sdwan` command line: the process shell around the pure core.
@main
struct SDWANCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdwan",
        abstract: "SD-WAN tunnel proxy: branch edge, hub concentrator and offline link-loss simulator.",
        subcommands: [GenKey.self, PubKey.self, GenPSK.self, SelfCheck.self]
    )
}
