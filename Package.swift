// swift-tools-version:6.1
// sdwan: an SD-WAN tunnel proxy. The module graph shows the three rings (docs/architecture.md):
//   SDWANCore (pure protocol engine) <- SDWANIO (SwiftNIO ring, later) <- sdwan (process shell),
//   with SDWANConfig (files: keys, YAML) beside the shell.
import PackageDescription

let package = Package(
    name: "sdwan",
    products: [
        .executable(name: "sdwan", targets: ["sdwan"]),
        .library(name: "SDWANCore", targets: ["SDWANCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // libsodium, the only C library the core calls; one file of SDWANCore touches it.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // The pure core: no sockets, no clock reads, no unseeded randomness, no logging backend.
        .target(
            name: "SDWANCore",
            dependencies: [
                "CSodium",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Link models (loss, later delay, rate, queue, schedules): pure, driven by `now` and a
        // generator, shared by the offline simulator and the live WAN emulator.
        .target(
            name: "SDWANLinkModel",
            dependencies: ["SDWANCore"]
        ),
        // The shell's file handling: key files now, the YAML configuration later. Reads files, never
        // sockets; shared by the live nodes and the simulator.
        .target(
            name: "SDWANConfig",
            dependencies: ["SDWANCore"]
        ),
        // The process shell.
        .executableTarget(
            name: "sdwan",
            dependencies: [
                "SDWANCore",
                "SDWANConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "SDWANCoreTests",
            dependencies: [
                "SDWANCore",
                "SDWANLinkModel",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SDWANConfigTests",
            dependencies: ["SDWANConfig", "SDWANCore"]
        ),
        .testTarget(
            name: "SDWANLinkModelTests",
            dependencies: ["SDWANLinkModel", "SDWANCore"]
        ),
        // Benchmarks that print figures and ratios against a baseline measured in the same run:
        // `swift run -c release sdwan-bench [name ...]`.
        .executableTarget(
            name: "sdwan-bench",
            dependencies: ["SDWANCore", "CSodium"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
