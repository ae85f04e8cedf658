using BenchmarkDotNet.Running;
using Tq.Benchmarks.Tensors;

// Run all with: dotnet run -c Release --project benchmarks/Tq.Benchmarks -- --filter '*'
// Quick kernel figures (Stopwatch, seconds): dotnet run -c Release --project benchmarks/Tq.Benchmarks -- quick-kernels [threads]
// Matrix products of one decode step / 128-token prefill of a real model: ... -- quick-model <model.gguf> [threads]
if (args.Length > 1 && args[0] == "quick-model")
{
    QuickKernelReport.RunModel(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2);
    return;
}

if (args.Length > 0 && args[0] == "quick-kernels")
{
    QuickKernelReport.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
