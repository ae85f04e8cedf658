using System.Numerics.Tensors;

namespace Tq.Core.Tensors;

/// <summary>
/// The element-wise and reduction operations of the forward pass, vectorized. Where
/// <see cref="TensorPrimitives"/> is already fast it is used directly; normalisation follows ggml's arithmetic
/// (double accumulation, separate scale and weight multiplications) so results match llama.cpp closely.
/// </summary>
internal static class TensorMath
{
    /// <summary>
    /// RMS normalisation, as ggml's <c>rms_norm</c> followed by <c>mul</c>:
    /// dst = (x · 1/sqrt(mean(x²) + ε)) · weight. <paramref name="weight"/> may be empty (no scaling).
    /// May run in place (<paramref name="destination"/> = <paramref name="x"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> destination, SimdPath path = SimdPath.Auto)
    {
        EnsureDestination(x.Length, destination);
        if (!weight.IsEmpty && weight.Length != x.Length)
        {
            throw new ArgumentException($"The weight has {weight.Length} elements; the input has {x.Length}.", nameof(weight));
        }

        if (x.IsEmpty)
        {
            return;
        }

        double sum = SumOfSquaresDouble(x, path);
        float scale = 1f / MathF.Sqrt((float)(sum / x.Length) + epsilon);
        Span<float> d = destination[..x.Length];
        TensorPrimitives.Multiply(x, scale, d);
        if (!weight.IsEmpty)
        {
            TensorPrimitives.Multiply(d, weight, d);
        }
    }

    /// <summary>Σ x² with each square rounded to float and the sum kept in double (ggml's <c>ggml_float</c>).</summary>
    internal static unsafe double SumOfSquaresDouble(ReadOnlySpan<float> x, SimdPath path = SimdPath.Auto)
    {
        path = SimdPaths.Resolve(path);
        double sum = 0;
        int i = 0;
        fixed (float* p = x)
        {
            if (path != SimdPath.Scalar)
            {
                Vector256<double> acc0 = Vector256<double>.Zero, acc1 = Vector256<double>.Zero;
                for (; i <= x.Length - 8; i += 8)
                {
                    Vector256<float> v = Vector256.Load(p + i);
                    (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(v * v);
                    acc0 += lo;
                    acc1 += hi;
                }

                sum = Vector256.Sum(acc0 + acc1);
            }

            for (; i < x.Length; i++)
            {
                sum += p[i] * p[i];
            }
        }

        return sum;
    }

    /// <summary>Softmax with the maximum subtracted first (no overflow for large logits). May run in place.</summary>
    public static void Softmax(ReadOnlySpan<float> x, Span<float> destination)
    {
        EnsureDestination(x.Length, destination);
        if (x.IsEmpty)
        {
            return;
        }

        Span<float> d = destination[..x.Length];
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, d);
        TensorPrimitives.Exp(d, d);
        float sum = TensorPrimitives.Sum(d);
        TensorPrimitives.Multiply(d, 1f / sum, d);
    }

    /// <summary>SiLU: x·σ(x). May run in place.</summary>
    public static void Silu(ReadOnlySpan<float> x, Span<float> destination)
    {
        EnsureDestination(x.Length, destination);
        SiluChunks(x, default, destination[..x.Length]);
    }

    /// <summary>SwiGLU: silu(gate)·up, the gated MLP of Llama-style models. May run in place over either input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SwiGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> destination)
    {
        if (gate.Length != up.Length)
        {
            throw new ArgumentException($"The gate has {gate.Length} elements; up has {up.Length}.", nameof(up));
        }

        EnsureDestination(gate.Length, destination);
        SiluChunks(gate, up, destination[..gate.Length]);
    }

    // silu(x), times `up` unless it is empty, 256 elements at a time: σ goes to a stack chunk first, so the
    // destination may be either input.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SiluChunks(ReadOnlySpan<float> x, ReadOnlySpan<float> up, Span<float> d)
    {
        Span<float> sigmoid = stackalloc float[256];
        for (int i = 0; i < x.Length; i += 256)
        {
            int n = Math.Min(256, x.Length - i);
            Span<float> s = sigmoid[..n];
            TensorPrimitives.Sigmoid(x.Slice(i, n), s);
            if (up.IsEmpty)
            {
                TensorPrimitives.Multiply(x.Slice(i, n), s, d.Slice(i, n));
            }
            else
            {
                TensorPrimitives.Multiply(x.Slice(i, n), s, s);
                TensorPrimitives.Multiply(s, up.Slice(i, n), d.Slice(i, n));
            }
        }
    }

    /// <summary>
    /// GeGLU as ggml's CPU kernel computes it (<c>ggml_vec_geglu_f32</c>): gelu(gate)·up, with the tanh-approximated
    /// GELU read from a table of FP16 results indexed by the gate rounded to FP16; gates ≤ −10 give 0 and gates ≥ 10
    /// pass through. May run in place over either input.
    /// </summary>
    public static void GeGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> destination)
    {
        if (gate.Length != up.Length)
        {
            throw new ArgumentException($"The gate has {gate.Length} elements; up has {up.Length}.", nameof(up));
        }

        EnsureDestination(gate.Length, destination);
        float[] table = GeluTable.Values;
        for (int i = 0; i < gate.Length; i++)
        {
            float x = gate[i];
            destination[i] = x <= -10f ? 0f
                : x >= 10f ? x * up[i]
                : table[BitConverter.HalfToUInt16Bits((Half)x)] * up[i];
        }
    }

    /// <summary>GELU, tanh approximation (ggml's <c>gelu</c>): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). May run in place.</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> destination)
    {
        EnsureDestination(x.Length, destination);
        Span<float> d = destination[..x.Length];
        Span<float> t = stackalloc float[256];
        const float sqrt2OverPi = 0.7978845608028654f;
        for (int i = 0; i < x.Length; i += 256)
        {
            int n = Math.Min(256, x.Length - i);
            ReadOnlySpan<float> xs = x.Slice(i, n);
            Span<float> ts = t[..n];
            TensorPrimitives.Multiply(xs, xs, ts);                 // x²
            TensorPrimitives.Multiply(ts, 0.044715f, ts);
            TensorPrimitives.Add(ts, 1f, ts);                      // 1 + 0.044715x²
            TensorPrimitives.Multiply(ts, xs, ts);                 // x + 0.044715x³
            TensorPrimitives.Multiply(ts, sqrt2OverPi, ts);
            TensorPrimitives.Tanh(ts, ts);
            TensorPrimitives.Add(ts, 1f, ts);
            TensorPrimitives.Multiply(ts, xs, ts);
            TensorPrimitives.Multiply(ts, 0.5f, d.Slice(i, n));
        }
    }

    /// <summary>dst = a + b.</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination) => TensorPrimitives.Add(a, b, destination);

    /// <summary>dst = a · b element-wise.</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination) => TensorPrimitives.Multiply(a, b, destination);

    /// <summary>dst = x · s.</summary>
    public static void Scale(ReadOnlySpan<float> x, float s, Span<float> destination) => TensorPrimitives.Multiply(x, s, destination);

    /// <summary>Σ a·b.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);

    /// <summary>y += α·x (BLAS axpy), used to accumulate attention-weighted values.</summary>
    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length != x.Length)
        {
            throw new ArgumentException($"y has {y.Length} elements; x has {x.Length}.", nameof(y));
        }

        TensorPrimitives.MultiplyAdd(x, alpha, y, y);
    }

    /// <summary>The index of the largest element (the first one on ties), or -1 for an empty span.</summary>
    /// <exception cref="ArgumentException">The input contains NaN (greedy decoding would be meaningless).</exception>
    public static int ArgMax(ReadOnlySpan<float> x)
    {
        // llama.cpp's greedy rule: the first strict maximum (so -0 and +0 tie, unlike TensorPrimitives.IndexOfMax).
        int best = -1;
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i]))
            {
                throw new ArgumentException($"The input contains NaN at index {i}.", nameof(x));
            }

            if (best < 0 || x[i] > x[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static void EnsureDestination(int length, Span<float> destination)
    {
        if (destination.Length < length)
        {
            throw new ArgumentException($"The destination holds {destination.Length} elements; {length} are needed.", nameof(destination));
        }
    }

    // ggml_table_gelu_f16: fp16(gelu(x)) for every FP16 x, built once.
    private static class GeluTable
    {
        public static readonly float[] Values = Build();

        private static float[] Build()
        {
            const float sqrt2OverPi = 0.79788456080286535587989211986876f;
            const float coefA = 0.044715f;
            float[] table = new float[65536];
            for (int i = 0; i < table.Length; i++)
            {
                float x = (float)BitConverter.UInt16BitsToHalf((ushort)i);
                float g = 0.5f * x * (1.0f + MathF.Tanh(sqrt2OverPi * x * (1.0f + (coefA * x * x))));
                table[i] = (float)(Half)g;
            }

            return table;
        }
    }
}
