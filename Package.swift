// swift-tools-version:6.1
// sdwan: an SD-WAN tunnel proxy. The module graph shows the three rings (docs/architecture.md):
//   SDWANCore (pure protocol engine) <- SDWANIO (SwiftNIO ring, later) <- sdwan (process shell),
//   with SDWANConfig (files: keys, YAML) beside the shell.
import PackageDescription

// The engine, link models and simulator run single-threaded and never re-enter themselves; the
// per-access dynamic exclusivity check was a tenth of the simulator's time (docs/simulator.md,
// "Speed"). Debug builds keep the check.
// Release builds also give each function of these modules a section of its own, so that the
// executables' link can place the hot ones side by side (`hotLayout`).
let fastPath: [SwiftSetting] = [
    .unsafeFlags(
        ["-enforce-exclusivity=unchecked", "-cross-module-optimization", "-Xfrontend", "-function-sections"],
        .when(configuration: .release)
    )
]

// The engine's and simulator's hottest functions first in the code (scripts/hot-functions, from a
// callgrind profile of the simulator benchmark): the few kilobytes a packet runs through then
// share cache lines and pages (docs/simulator.md, "Speed"). The option is GNU gold's, the linker
// Swift uses on Linux; names it does not find are ignored.
let hotLayout: [LinkerSetting] = [
    .unsafeFlags(
        ["-Xlinker", "--section-ordering-file=\(Context.packageDirectory)/scripts/hot-functions.order"],
        .when(platforms: [.linux], configuration: .release)
    )
]

let package = Package(
    name: "sdwan",
    products: [
        .executable(name: "sdwan", targets: ["sdwan"]),
        .library(name: "SDWANCore", targets: ["SDWANCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
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
            ],
            swiftSettings: fastPath
        ),
        // Link models (loss, later delay, rate, queue, schedules): pure, driven by `now` and a
        // generator, shared by the offline simulator and the live WAN emulator.
        .target(
            name: "SDWANLinkModel",
            dependencies: ["SDWANCore"],
            swiftSettings: fastPath
        ),
        // The I/O ring: UDP sockets, clocks, timers on SwiftNIO. Hands bytes and `now` to the core.
        .target(
            name: "SDWANIO",
            dependencies: [
                "SDWANCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The shell's file handling: key files now, the YAML configuration later. Reads files, never
        // sockets; shared by the live nodes and the simulator.
        .target(
            name: "SDWANConfig",
            dependencies: [
                "SDWANCore",
                "SDWANLinkModel",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The offline simulator: a discrete-event loop in virtual time that drives the real engine
        // over modelled links (docs/simulator.md).
        .target(
            name: "SDWANSimulator",
            dependencies: [
                "SDWANCore", "SDWANLinkModel", "SDWANConfig", .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: fastPath
        ),
        // The userspace WAN emulator: a UDP relay per link applying the link models in real time
        // (docs/wanem.md).
        .target(
            name: "SDWANWANEmulator",
            dependencies: [
                "SDWANIO",
                "SDWANLinkModel",
                "SDWANConfig",
                "SDWANCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The live nodes: `sdwan edge` and `sdwan hub` drive the engine over UDP sockets, serve
        // /status and /metrics, and relay UDP port forwards (docs/operations.md).
        .target(
            name: "SDWANNode",
            dependencies: [
                "SDWANIO",
                "SDWANCore",
                "SDWANConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The process shell.
        .executableTarget(
            name: "sdwan",
            dependencies: [
                "SDWANCore",
                "SDWANConfig",
                "SDWANNode",
                "SDWANWANEmulator",
                "SDWANSimulator",
                "SDWANIO",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            linkerSettings: hotLayout
        ),
        .testTarget(
            name: "SDWANCoreTests",
            dependencies: [
                "SDWANCore",
                "SDWANLinkModel",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "SDWANConfigTests",
            dependencies: ["SDWANConfig", "SDWANCore", "SDWANLinkModel"]
        ),
        .testTarget(
            name: "SDWANIOTests",
            dependencies: [
                "SDWANIO",
                "SDWANCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SDWANWANEmulatorTests",
            dependencies: [
                "SDWANWANEmulator",
                "SDWANIO",
                "SDWANConfig",
                "SDWANLinkModel",
                "SDWANCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SDWANNodeTests",
            dependencies: [
                "SDWANNode",
                "SDWANWANEmulator",
                "SDWANConfig",
                "SDWANIO",
                "SDWANCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SDWANLinkModelTests",
            dependencies: ["SDWANLinkModel", "SDWANCore"]
        ),
        .testTarget(
            name: "SDWANSimulatorTests",
            dependencies: [
                "SDWANSimulator", "SDWANLinkModel", "SDWANCore", "SDWANConfig",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Counts malloc/calloc/realloc calls in sdwan-bench (allocations per packet).
        .target(name: "CMallocCounter"),
        // A plain C XOR loop, the baseline for the Swift XOR parity kernel (sdwan-bench fec).
        .target(name: "CXORBaseline"),
        // Benchmarks that print figures and ratios against a baseline measured in the same run:
        // `swift run -c release sdwan-bench [name ...]`.
        .executableTarget(
            name: "sdwan-bench",
            dependencies: [
                "CMallocCounter",
                "SDWANCore", "CSodium", "CXORBaseline", "SDWANLinkModel", "SDWANSimulator", "SDWANConfig", "SDWANIO",
                "SDWANWANEmulator", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            linkerSettings: hotLayout
        ),
    ],
    swiftLanguageModes: [.v6]
)
