using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Tq.Core.Tensors;

namespace Tq.Benchmarks.Tensors;

/// <summary>Adds the Throughput (GB/s or GFLOP/s) and "vs read bandwidth" columns to the kernel benchmarks.</summary>
public sealed class KernelBenchmarkConfig : ManualConfig
{
    public KernelBenchmarkConfig()
    {
        AddColumn(new ThroughputColumn(bandwidthRatio: false), new ThroughputColumn(bandwidthRatio: true));
    }

    /// <summary>Throughput of a kernel benchmark, or its ratio to the read bandwidth measured in the same (joined) run.</summary>
    private sealed class ThroughputColumn(bool bandwidthRatio) : IColumn
    {
        public string Id => bandwidthRatio ? "VsReadBandwidth" : "Throughput";

        public string ColumnName => bandwidthRatio ? "vs Read bw" : "Throughput";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => bandwidthRatio ? 1 : 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => bandwidthRatio
            ? "Weight bytes per second divided by the 2-thread read bandwidth of MemoryBandwidthBenchmarks.Read (needs --join)"
            : "GB/s of weights (matrix-vector), GB/s read+written (copy), GB/s read (read), GFLOP/s (prefill)";

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            double? perSecond = Rate(summary, benchmarkCase);
            if (perSecond is null)
            {
                return "-";
            }

            if (!bandwidthRatio)
            {
                string unit = benchmarkCase.Descriptor.Type == typeof(PrefillBenchmarks) ? "GFLOP/s" : "GB/s";
                return $"{perSecond.Value / 1e9:F2} {unit}";
            }

            if (benchmarkCase.Descriptor.Type != typeof(MatVecBenchmarks))
            {
                return "-";
            }

            BenchmarkCase? read = summary.BenchmarksCases.FirstOrDefault(c =>
                c.Descriptor.Type == typeof(MemoryBandwidthBenchmarks) && c.Descriptor.WorkloadMethod.Name == nameof(MemoryBandwidthBenchmarks.Read));
            double? readRate = read is null ? null : Rate(summary, read);
            return readRate is null ? "-" : $"{perSecond.Value / readRate.Value:P0}";
        }

        private static double? Rate(Summary summary, BenchmarkCase benchmarkCase)
        {
            BenchmarkReport? report = summary[benchmarkCase];
            double? meanNs = report?.ResultStatistics?.Mean;
            if (meanNs is null or <= 0)
            {
                return null;
            }

            double seconds = meanNs.Value / 1e9;
            Type type = benchmarkCase.Descriptor.Type;
            if (type == typeof(MemoryBandwidthBenchmarks))
            {
                bool copy = benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(MemoryBandwidthBenchmarks.Copy);
                return (copy ? 2.0 : 1.0) * MemoryBandwidthBenchmarks.BufferBytes / seconds;
            }

            var ggmlType = (GgmlType)benchmarkCase.Parameters["WeightType"];
            if (type == typeof(MatVecBenchmarks))
            {
                return GgmlTypeInfo.RowSize(ggmlType, MatVecBenchmarks.Size) * (double)MatVecBenchmarks.Size / seconds;
            }

            if (type == typeof(PrefillBenchmarks))
            {
                return 2.0 * PrefillBenchmarks.Rows * PrefillBenchmarks.Cols * PrefillBenchmarks.Tokens / seconds;
            }

            return null;
        }
    }
}
