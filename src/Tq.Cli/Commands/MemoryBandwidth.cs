using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Tq.Cli.Commands;

/// <summary>
/// The machine's multi-threaded read bandwidth: the ceiling of decode, which reads every weight once per token. Each
/// thread sums its own slice of a 256 MiB buffer (far larger than any cache); the best of five passes counts.
/// </summary>
internal static unsafe class MemoryBandwidth
{
    private const long BufferBytes = 256L << 20;

    private static long s_sink;

    /// <summary>Read bandwidth in GB/s (10^9 bytes per second) with <paramref name="threads"/> threads.</summary>
    public static double Measure(int threads)
    {
        threads = Math.Max(1, threads);
        byte* buffer = (byte*)NativeMemory.AlignedAlloc((nuint)BufferBytes, 4096);
        try
        {
            NativeMemory.Fill(buffer, (nuint)BufferBytes, 1);
            long slice = BufferBytes / threads / 4096 * 4096;
            double best = 0;
            for (int pass = 0; pass < 5; pass++)
            {
                using var start = new Barrier(threads + 1);
                var workers = new Thread[threads];
                for (int t = 0; t < threads; t++)
                {
                    byte* from = buffer + (t * slice);
                    workers[t] = new Thread(() =>
                    {
                        start.SignalAndWait();
                        Interlocked.Add(ref s_sink, Sum(from, slice));
                    });
                    workers[t].Start();
                }

                start.SignalAndWait();
                long begin = Stopwatch.GetTimestamp();
                foreach (Thread worker in workers)
                {
                    worker.Join();
                }

                best = Math.Max(best, slice * threads / Stopwatch.GetElapsedTime(begin).TotalSeconds / 1e9);
            }

            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static long Sum(byte* from, long bytes)
    {
        Vector<long> a = default, b = default, c = default, d = default;
        int step = Vector<byte>.Count;
        for (byte* p = from, end = from + bytes; p < end; p += 4 * step)
        {
            a += *(Vector<long>*)p;
            b += *(Vector<long>*)(p + step);
            c += *(Vector<long>*)(p + (2 * step));
            d += *(Vector<long>*)(p + (3 * step));
        }

        return Vector.Sum(a + b + c + d);
    }
}
