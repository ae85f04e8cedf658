using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using Tq.Core.Threading;

namespace Tq.Benchmarks.Tensors;

/// <summary>
/// This machine's memory bandwidth, the yardstick of the matrix-vector benchmarks: a 256 MiB copy (bytes read +
/// written per second) and a 256 MiB vector read on the same 2-thread <see cref="WorkerPool"/> the kernels use.
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public unsafe class MemoryBandwidthBenchmarks
{
    internal const long BufferBytes = 256L << 20;

    private byte* _source;
    private byte* _destination;
    private WorkerPool _pool = null!;

    [GlobalSetup]
    public void Setup()
    {
        _source = (byte*)NativeMemory.AlignedAlloc((nuint)BufferBytes, 64);
        _destination = (byte*)NativeMemory.AlignedAlloc((nuint)BufferBytes, 64);
        new Span<byte>(_source, (int)BufferBytes).Fill(1);
        new Span<byte>(_destination, (int)BufferBytes).Fill(2);
        _pool = new WorkerPool(2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        NativeMemory.AlignedFree(_source);
        NativeMemory.AlignedFree(_destination);
    }

    /// <summary>One 256 MiB memcpy on one thread.</summary>
    [Benchmark]
    public void Copy() => Buffer.MemoryCopy(_source, _destination, BufferBytes, BufferBytes);

    /// <summary>Reads 256 MiB with 512-bit loads on 2 threads (what a memory-bound matrix-vector product does).</summary>
    [Benchmark]
    public float Read()
    {
        var job = new ReadJob { Source = _source };
        _pool.Run(ref job, 2);
        return job.Sink;
    }

    private struct ReadJob : IParallelJob
    {
        public byte* Source;
        public float Sink;

        public void Execute(int index)
        {
            long half = BufferBytes / 2;
            float* p = (float*)(Source + (index * half));
            long n = half / sizeof(float);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (long i = 0; i < n; i += 64)
            {
                a0 += Vector512.Load(p + i);
                a1 += Vector512.Load(p + i + 16);
                a2 += Vector512.Load(p + i + 32);
                a3 += Vector512.Load(p + i + 48);
            }

            Sink += Vector512.Sum(a0 + a1 + a2 + a3);
        }
    }
}
