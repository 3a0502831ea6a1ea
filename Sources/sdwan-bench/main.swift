// sdwan-bench: `swift run -c release sdwan-bench` runs every benchmark; names select some.
// Each benchmark prints its configuration, its figure and the ratio to a baseline measured in the
// same run (../shared/MACHINE.md: machines are shared and noisy, compare ratios).

let benchmarks: [Benchmark] = [
    randomSourceBenchmark,
    sessionBenchmark,
    engineBenchmark,
    hubBenchmark,
    balanceBenchmark,
    fecBenchmark,
    linkModelBenchmark,
    eventQueueBenchmark,
    wanemBenchmark,
    simulatorBenchmark,
]

let selected = CommandLine.arguments.dropFirst()
for benchmark in benchmarks where selected.isEmpty || selected.contains(benchmark.name) {
    print("== \(benchmark.name): \(benchmark.summary)")
    benchmark.run()
}
