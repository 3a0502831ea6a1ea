/// Sample moments for the statistical tests.
struct Moments {
    private(set) var count = 0
    private var mean = 0.0
    private var m2 = 0.0

    /// Welford's online update: numerically stable for millions of samples.
    mutating func add(_ x: Double) {
        count += 1
        let delta = x - mean
        mean += delta / Double(count)
        m2 += delta * (x - mean)
    }

    var average: Double { mean }
    var variance: Double { count > 1 ? m2 / Double(count - 1) : 0 }
    var standardDeviation: Double { variance.squareRoot() }
}

/// Binomial standard error of a proportion p estimated from n samples: √(p(1−p)/n).
func binomialStandardError(_ p: Double, _ n: Int) -> Double {
    (p * (1 - p) / Double(n)).squareRoot()
}
