using System.Diagnostics;
using System.Runtime.InteropServices;
using Tq.Core.Tensors;
using Tq.Core.Threading;

namespace Tq.Benchmarks.Tensors;

/// <summary>
/// A fast Stopwatch report of the kernels (seconds, not minutes): `dotnet run -c Release --project benchmarks/Tq.Benchmarks -- quick-kernels`.
/// Medians of repeated runs; use BenchmarkDotNet (`--filter '*MatVec*'`) for the recorded figures.
/// </summary>
internal static unsafe class QuickKernelReport
{
    internal static bool? Tiled = Environment.GetEnvironmentVariable("TQ_TILED") is string v ? v == "1" : null;

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

    private static void Report(WorkerPool pool, GgmlType type, int rows, int cols, int tokens, double copy)
    {
        byte* w = KernelBuffers.RandomWeights(type, rows, cols, out long bytes);
        var matrix = new WeightMatrix(type, rows, cols, w, bytes);
        float[] x = KernelBuffers.RandomFloats(tokens * cols);
        float[] y = new float[tokens * rows];
        int iterations = (int)Math.Clamp(2e8 / Math.Max(bytes, (long)rows * cols * tokens), 5, 20000);
        for (int i = 0; i < Math.Min(iterations, 50); i++)
        {
            MatMul.Multiply(matrix, x, y, tokens, pool, SimdPath.Auto, Tiled);
        }

        double[] samples = new double[7];
        for (int s = 0; s < samples.Length; s++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < iterations; i++)
            {
                MatMul.Multiply(matrix, x, y, tokens, pool, SimdPath.Auto, Tiled);
            }

            samples[s] = Stopwatch.GetElapsedTime(start).TotalSeconds / iterations;
        }

        Array.Sort(samples);
        double t = samples[samples.Length / 2];
        double gbs = bytes / t / 1e9;
        double gflops = 2.0 * rows * cols * tokens / t / 1e9;
        Console.WriteLine($"{type,-5} {rows,5}x{cols,-5} T={tokens,-4} {t * 1e6,10:F1} µs  {gbs,7:F2} GB/s ({gbs / copy:P0} of copy)  {gflops,7:F1} GFLOP/s");
        NativeMemory.AlignedFree(w);
    }
}
