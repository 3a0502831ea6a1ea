/// A line chart to be drawn as SVG (`SVGRenderer`): series over a shared x axis, vertical event
/// markers, and lanes of shaded bands above the plot (a class's "link in use").
public struct LineChart: Sendable {
    public enum YScale: Sendable, Equatable {
        case linear
        /// Decades; values at or below the lowest decade are drawn on the axis's bottom edge.
        case log
    }

    public enum Format: Sendable, Equatable {
        case plain
        /// Ratios shown as percentages on the axis.
        case percent
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var yScale: YScale
    public var yFormat: Format
    public var xFormat: Format
    /// Fixed axis ranges; `nil`: from the data, widened to round ticks.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    public var series: [ChartSeries]
    public var events: [ChartEvent]
    public var lanes: [ChartLane]

    public init(
        title: String,
        xLabel: String,
        yLabel: String,
        yScale: YScale = .linear,
        yFormat: Format = .plain,
        xFormat: Format = .plain,
        xRange: ClosedRange<Double>? = nil,
        yRange: ClosedRange<Double>? = nil,
        series: [ChartSeries] = [],
        events: [ChartEvent] = [],
        lanes: [ChartLane] = []
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.yScale = yScale
        self.yFormat = yFormat
        self.xFormat = xFormat
        self.xRange = xRange
        self.yRange = yRange
        self.series = series
        self.events = events
        self.lanes = lanes
    }
}

/// One plotted line: points (x, y); a `nil` y breaks the line.
public struct ChartSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double?]
    /// Palette index (`SVGRenderer.palette`); a theory curve shares its measurement's colour.
    public var color: Int
    public var dashed: Bool
    /// Draw a dot at every point (sparse data such as a sweep).
    public var markers: Bool
    /// Stroke width in pixels; series that may coincide are drawn widest first so each shows.
    public var width: Double

    public init(
        name: String,
        x: [Double],
        y: [Double?],
        color: Int,
        dashed: Bool = false,
        markers: Bool = false,
        width: Double = 1.6
    ) {
        precondition(x.count == y.count, "one x per y")
        self.width = width
        self.name = name
        self.x = x
        self.y = y
        self.color = color
        self.dashed = dashed
        self.markers = markers
    }
}

/// A vertical marker at `x` with a label (a timeline event).
public struct ChartEvent: Sendable, Equatable {
    public var x: Double
    public var label: String

    public init(x: Double, label: String) {
        self.x = x
        self.label = label
    }
}

/// A row of shaded intervals above the plot, labelled in the legend column.
public struct ChartLane: Sendable {
    public var label: String
    public var intervals: [ClosedRange<Double>]
    public var color: Int

    public init(label: String, intervals: [ClosedRange<Double>], color: Int) {
        self.label = label
        self.intervals = intervals
        self.color = color
    }
}
