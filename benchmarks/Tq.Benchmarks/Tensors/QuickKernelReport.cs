using System.Diagnostics;
using System.Runtime.InteropServices;
using Tq.Core.Gguf;
using Tq.Core.Tensors;
using Tq.Core.Threading;

namespace Tq.Benchmarks.Tensors;

/// <summary>
/// A fast Stopwatch report of the kernels (seconds, not minutes): `dotnet run -c Release --project benchmarks/Tq.Benchmarks -- quick-kernels`.
/// Medians of repeated runs; use BenchmarkDotNet (`--filter '*MatVec*'`) for the recorded figures.
/// </summary>
internal static unsafe class QuickKernelReport
{
    /// <summary>With TQ_CPU_TIME=1: one thread, timed by process CPU time, which a loaded machine disturbs far less than wall time.</summary>
    internal static readonly bool CpuTime = Environment.GetEnvironmentVariable("TQ_CPU_TIME") == "1";

    /// <summary>TQ_PATH=Scalar|Vector256|Vector512 forces a kernel path (default: the best).</summary>
    internal static readonly SimdPath ForcedPath = Enum.TryParse(Environment.GetEnvironmentVariable("TQ_PATH"), out SimdPath p) ? p : SimdPath.Auto;

    internal static bool? Tiled = Environment.GetEnvironmentVariable("TQ_TILED") is string v ? v == "1" : null;

    // The products' scratch, owned by the report (its calls run one after another on the calling thread).
    private static readonly KernelScratch Scratch = new();

    public static void Run(int threads)
    {
        using var pool = new WorkerPool(threads);
        Console.WriteLine($"threads {threads}, SIMD {SimdPaths.Best}");
        double copy = CopyBandwidth();
        Console.WriteLine($"memory copy: {copy:F1} GB/s (read + write)");
        foreach (GgmlType type in new[] { GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K })
        {
            Report(pool, type, 4096, 4096, 1, copy);
        }

        foreach (GgmlType type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K })
        {
            Report(pool, type, 256, 256, 1, copy);
            Report(pool, type, 768, 256, 1, copy);
            Report(pool, type, 256, 768, 1, copy);
        }

        foreach (GgmlType type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_K })
        {
            Report(pool, type, 768, 256, 128, copy);
            Report(pool, type, 256, 768, 128, copy);
        }
    }

    /// <summary>
    /// Runs every matrix product of one decode step (T = 1) and of a 128-token prefill of a real model, in forward
    /// order, and reports the tokens/s the matrix products alone would allow (attention and norms excluded).
    /// </summary>
    public static void RunModel(string path, int threads)
    {
        using var pool = new WorkerPool(threads);
        using GgufFile file = GgufFile.Open(path);

        // Forward order, with the matrices that share an input stacked as the forward pass calls them.
        var groups = new List<WeightMatrix[]>();
        WeightMatrix M(string name) => WeightMatrix.FromTensor(file, file.GetTensor(name));
        for (int layer = 0; file.TryGetTensor($"blk.{layer}.attn_q.weight", out _); layer++)
        {
            string b = $"blk.{layer}.";
            groups.Add([M(b + "attn_q.weight"), M(b + "attn_k.weight"), M(b + "attn_v.weight")]);
            groups.Add([M(b + "attn_output.weight")]);
            groups.Add([M(b + "ffn_gate.weight"), M(b + "ffn_up.weight")]);
            groups.Add([M(b + "ffn_down.weight")]);
        }

        groups.Add([M("output.weight")]);
        DispatchLatency(pool);
        foreach (int tokens in new[] { 1, 128 })
        {
            int maxCols = groups.Max(g => g[0].Cols), maxRows = groups.Max(g => g.Sum(m => m.Rows));
            float[] x = KernelBuffers.RandomFloats(tokens * maxCols);
            float[] y = new float[tokens * maxRows];
            WorkerPool? stepPool = CpuTime ? null : pool;
            void Step()
            {
                foreach (WeightMatrix[] g in groups)
                {
                    MatMul.Multiply(g, x.AsSpan(0, tokens * g[0].Cols), y, tokens, stepPool, ForcedPath, Tiled, Scratch);
                }
            }

            int iterations = tokens == 1 ? 2000 : 20;
            for (int i = 0; i < iterations / 4; i++)
            {
                Step();
            }

            double[] samples = new double[5];
            for (int s = 0; s < samples.Length; s++)
            {
                double start = Now();
                for (int i = 0; i < iterations; i++)
                {
                    Step();
                }

                samples[s] = (Now() - start) / iterations;
            }

            Array.Sort(samples);
            double t = samples[2];
            Console.WriteLine($"{Path.GetFileName(path)} T={tokens}: {groups.Count} matmul calls in {t * 1e6:F0} µs = {tokens / t:F0} tokens/s (matrix products only{(CpuTime ? ", 1 thread, CPU time" : string.Empty)})");
        }
    }

    private struct EmptyJob : IParallelJob
    {
        public readonly void Execute(int index)
        {
        }
    }

    private static void DispatchLatency(WorkerPool pool)
    {
        var job = new EmptyJob();
        for (int i = 0; i < 10000; i++)
        {
            pool.Run(ref job, pool.ThreadCount);
        }

        long start = Stopwatch.GetTimestamp();
        const int n = 100000;
        for (int i = 0; i < n; i++)
        {
            pool.Run(ref job, pool.ThreadCount);
        }

        Console.WriteLine($"WorkerPool({pool.ThreadCount}) dispatch of an empty job: {Stopwatch.GetElapsedTime(start).TotalMicroseconds / n:F2} µs");
    }

    internal static double CopyBandwidth()
    {
        const int size = 256 << 20;
        byte* a = (byte*)NativeMemory.AlignedAlloc(size, 64);
        byte* b = (byte*)NativeMemory.AlignedAlloc(size, 64);
        new Span<byte>(a, size).Fill(1);
        new Span<byte>(b, size).Fill(2);
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Buffer.MemoryCopy(a, b, size, size);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        NativeMemory.AlignedFree(a);
        NativeMemory.AlignedFree(b);
        return 2.0 * size / best / 1e9;
    }

    private static double Now() => CpuTime ? Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds : Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    private static void Report(WorkerPool realPool, GgmlType type, int rows, int cols, int tokens, double copy)
    {
        WorkerPool? pool = CpuTime ? null : realPool;
        byte* w = KernelBuffers.RandomWeights(type, rows, cols, out long bytes);
        var matrix = new WeightMatrix(type, rows, cols, w, bytes);
        float[] x = KernelBuffers.RandomFloats(tokens * cols);
        float[] y = new float[tokens * rows];
        int iterations = (int)Math.Clamp(2e8 / Math.Max(bytes, (long)rows * cols * tokens), 5, 20000);
        for (int i = 0; i < Math.Min(iterations, 50); i++)
        {
            MatMul.Multiply(matrix, x, y, tokens, pool, ForcedPath, Tiled, Scratch);
        }

        double[] samples = new double[7];
        for (int s = 0; s < samples.Length; s++)
        {
            double start = Now();
            for (int i = 0; i < iterations; i++)
            {
                MatMul.Multiply(matrix, x, y, tokens, pool, ForcedPath, Tiled, Scratch);
            }

            samples[s] = (Now() - start) / iterations;
        }

        Array.Sort(samples);
        double t = samples[samples.Length / 2];
        double gbs = bytes / t / 1e9;
        double gflops = 2.0 * rows * cols * tokens / t / 1e9;
        Console.WriteLine($"{(CpuTime ? "[1 thread, CPU time] " : string.Empty)}{type,-5} {rows,5}x{cols,-5} T={tokens,-4} {t * 1e6,10:F1} µs  {gbs,7:F2} GB/s ({gbs / copy:P0} of copy)  {gflops,7:F1} GFLOP/s");
        NativeMemory.AlignedFree(w);
    }
}
