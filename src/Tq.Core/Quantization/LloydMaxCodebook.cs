using System.Collections.Concurrent;

namespace Tq.Core.Quantization;

/// <summary>
/// The Lloyd-Max (MSE-optimal) scalar quantizer for one coordinate of a uniformly random unit vector in dimension d,
/// whose exact density is f(x) ∝ (1 − x²)^((d − 3)/2) on [−1, 1] (close to N(0, 1/d) for large d).
/// </summary>
/// <remarks>
/// Computed once per (dimension, bits) by Lloyd iterations to convergence and cached for the process; instances are
/// immutable and safe to share between threads. The mass of an interval is integrated numerically in θ = asin x, where
/// the density becomes cos^(d−2) θ (smooth even for d = 2); the first moment has the closed form
/// (cos^(d−1) θₐ − cos^(d−1) θ_b)/(d − 1).
/// </remarks>
internal sealed class LloydMaxCodebook
{
    /// <summary>The smallest supported dimension.</summary>
    public const int MinDimension = 2;

    /// <summary>The largest supported dimension.</summary>
    public const int MaxDimension = 1 << 16;

    /// <summary>The smallest supported number of bits per coordinate.</summary>
    public const int MinBits = 1;

    /// <summary>The largest supported number of bits per coordinate.</summary>
    public const int MaxBits = 4;

    private const double Tolerance = 1e-12;
    private const int MaxIterations = 200_000;

    private static readonly ConcurrentDictionary<(int Dimension, int Bits), Lazy<LloydMaxCodebook>> s_cache = new();

    private readonly double[] _centroids;
    private readonly double[] _boundaries;
    private readonly float[] _centroidsSingle;
    private readonly float[] _boundariesSingle;

    private LloydMaxCodebook(int dimension, int bits, double[] centroids, double distortion, int iterations)
    {
        Dimension = dimension;
        Bits = bits;
        _centroids = centroids;
        _boundaries = new double[centroids.Length - 1];
        for (int i = 0; i < _boundaries.Length; i++)
        {
            _boundaries[i] = 0.5 * (centroids[i] + centroids[i + 1]);
        }

        _centroidsSingle = Array.ConvertAll(_centroids, c => (float)c);
        _boundariesSingle = Array.ConvertAll(_boundaries, b => (float)b);
        Distortion = distortion;
        Iterations = iterations;
    }

    /// <summary>The vector dimension d the codebook is optimal for.</summary>
    public int Dimension { get; }

    /// <summary>Bits per coordinate (2^Bits centroids).</summary>
    public int Bits { get; }

    /// <summary>Sorted centroids, 2^<see cref="Bits"/> of them, symmetric about 0.</summary>
    public ReadOnlySpan<double> Centroids => _centroids;

    /// <summary>Sorted decision boundaries (midpoints of adjacent centroids), 2^<see cref="Bits"/> − 1 of them.</summary>
    public ReadOnlySpan<double> Boundaries => _boundaries;

    /// <summary>Expected squared error per coordinate, E[(X − Q(X))²]; times d it is the expected NMSE of a unit vector.</summary>
    public double Distortion { get; }

    /// <summary>Lloyd iterations the computation took to converge.</summary>
    public int Iterations { get; }

    internal ReadOnlySpan<float> CentroidsSingle => _centroidsSingle;

    internal ReadOnlySpan<float> BoundariesSingle => _boundariesSingle;

    internal float[] CentroidArray => _centroidsSingle;

    internal float[] BoundaryArray => _boundariesSingle;

    /// <summary>Returns the cached codebook for a dimension and bit width, computing it on first use.</summary>
    /// <param name="dimension">Vector dimension d, from <see cref="MinDimension"/> to <see cref="MaxDimension"/>.</param>
    /// <param name="bits">Bits per coordinate, 1 to 4.</param>
    /// <exception cref="ArgumentOutOfRangeException">The dimension or bit width is not supported.</exception>
    public static LloydMaxCodebook Get(int dimension, int bits)
    {
        if (dimension is < MinDimension or > MaxDimension)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Codebook dimension must be between {MinDimension} and {MaxDimension}.");
        }

        if (bits is < MinBits or > MaxBits)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"Codebook bits must be between {MinBits} and {MaxBits}.");
        }

        return s_cache.GetOrAdd((dimension, bits), static key => new Lazy<LloydMaxCodebook>(
            () => Compute(key.Dimension, key.Bits), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    /// <summary>Index of the centroid nearest to <paramref name="x"/> (the number of boundaries below it).</summary>
    public int Encode(double x)
    {
        int code = 0;
        foreach (double b in _boundaries)
        {
            if (x > b)
            {
                code++;
            }
        }

        return code;
    }

    private static LloydMaxCodebook Compute(int dimension, int bits)
    {
        var density = new CoordinateDensity(dimension);
        int levels = 1 << bits;
        double sigma = 1.0 / Math.Sqrt(dimension);

        // Start from evenly spaced points over ±2.5σ (clamped inside the support); the density is log-concave for
        // d ≥ 3, so Lloyd's iteration converges to the unique optimum from any symmetric start.
        var c = new double[levels];
        double span = Math.Min(2.5 * sigma, 0.9);
        for (int i = 0; i < levels; i++)
        {
            c[i] = levels == 1 ? 0 : -span + (2 * span * i / (levels - 1));
        }

        var lowerTheta = new double[levels];
        var upperTheta = new double[levels];
        int iteration = 0;
        double tolerance = Tolerance * sigma;
        while (true)
        {
            for (int i = 0; i < levels; i++)
            {
                lowerTheta[i] = i == 0 ? -Math.PI / 2 : Math.Asin(0.5 * (c[i - 1] + c[i]));
                upperTheta[i] = i == levels - 1 ? Math.PI / 2 : Math.Asin(0.5 * (c[i] + c[i + 1]));
            }

            double maxChange = 0;
            var next = new double[levels];
            for (int i = 0; i < levels; i++)
            {
                double mass = density.Mass(lowerTheta[i], upperTheta[i]);
                double moment = density.FirstMoment(lowerTheta[i], upperTheta[i]);
                next[i] = moment / mass;
            }

            // Impose the exact symmetry of the density so rounding cannot drift the codebook off centre.
            for (int i = 0; i < levels / 2; i++)
            {
                double v = 0.5 * (next[levels - 1 - i] - next[i]);
                next[i] = -v;
                next[levels - 1 - i] = v;
            }

            for (int i = 0; i < levels; i++)
            {
                maxChange = Math.Max(maxChange, Math.Abs(next[i] - c[i]));
            }

            c = next;
            iteration++;
            if (maxChange < tolerance || iteration >= MaxIterations)
            {
                break;
            }
        }

        // E[(X − Q)²] = E[X²] − Σ mass·c² when every centroid is its cell's conditional mean; E[X²] = 1/d exactly.
        double explained = 0;
        for (int i = 0; i < levels; i++)
        {
            double lo = i == 0 ? -Math.PI / 2 : Math.Asin(0.5 * (c[i - 1] + c[i]));
            double hi = i == levels - 1 ? Math.PI / 2 : Math.Asin(0.5 * (c[i] + c[i + 1]));
            explained += density.Mass(lo, hi) * c[i] * c[i];
        }

        double distortion = Math.Max(0, (1.0 / dimension) - explained);
        return new LloydMaxCodebook(dimension, bits, c, distortion, iteration);
    }

    /// <summary>The coordinate density in θ = asin x: g(θ) ∝ cos^(d−2) θ on [−π/2, π/2], with a cumulative table.</summary>
    private sealed class CoordinateDensity
    {
        private static readonly double[] s_nodes =
        [
            -0.9602898564975363, -0.7966664774136267, -0.5255324099163290, -0.1834346424956498,
            0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363,
        ];

        private static readonly double[] s_weights =
        [
            0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.3626837833783620,
            0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763,
        ];

        private readonly int _dimension;
        private readonly double _panelWidth;
        private readonly double[] _cumulative;
        private readonly double _total;

        public CoordinateDensity(int dimension)
        {
            _dimension = dimension;

            // The peak is about 1/√d wide in θ: keep ~60 eight-point panels across it.
            int panels = Math.Max(2048, (int)Math.Ceiling(64 * Math.PI * Math.Sqrt(dimension)));
            _panelWidth = Math.PI / panels;
            _cumulative = new double[panels + 1];
            double sum = 0;
            for (int p = 0; p < panels; p++)
            {
                double a = (-Math.PI / 2) + (p * _panelWidth);
                sum += Integrate(a, a + _panelWidth);
                _cumulative[p + 1] = sum;
            }

            _total = sum;
        }

        /// <summary>Probability of θ in [a, b].</summary>
        public double Mass(double a, double b) => (Cumulative(b) - Cumulative(a)) / _total;

        /// <summary>∫ x f(x) dx over θ in [a, b], normalized like <see cref="Mass"/>.</summary>
        public double FirstMoment(double a, double b)
        {
            int n = _dimension - 1;
            double ca = Math.Pow(Math.Max(0, Math.Cos(a)), n);
            double cb = Math.Pow(Math.Max(0, Math.Cos(b)), n);
            return (ca - cb) / n / _total;
        }

        private double Cumulative(double theta)
        {
            double offset = theta + (Math.PI / 2);
            int panel = (int)Math.Floor(offset / _panelWidth);
            if (panel <= 0)
            {
                return offset <= 0 ? 0 : Integrate(-Math.PI / 2, theta);
            }

            if (panel >= _cumulative.Length - 1)
            {
                return _total;
            }

            double start = (-Math.PI / 2) + (panel * _panelWidth);
            return _cumulative[panel] + Integrate(start, theta);
        }

        private double Integrate(double a, double b)
        {
            if (b <= a)
            {
                return 0;
            }

            double half = 0.5 * (b - a);
            double mid = 0.5 * (a + b);
            double sum = 0;
            int exponent = _dimension - 2;
            for (int i = 0; i < s_nodes.Length; i++)
            {
                double c = Math.Cos(mid + (half * s_nodes[i]));
                sum += s_weights[i] * (exponent == 0 ? 1.0 : Math.Pow(Math.Max(0, c), exponent));
            }

            return sum * half;
        }
    }
}
