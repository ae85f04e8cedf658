using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tq.Cli.Commands;

/// <summary><c>tq info</c>: the machine's SIMD support, cores and the tool version.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Print the detected SIMD widths, core count and version.");
        command.SetAction(_ =>
        {
            PrintMachine(Console.Out);
            return 0;
        });
        return command;
    }

    internal static void PrintMachine(TextWriter output)
    {
        string version = typeof(InfoCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        output.WriteLine($"tq {version}");
        output.WriteLine($"runtime      {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.ProcessArchitecture})");
        output.WriteLine($"cores        {Environment.ProcessorCount}");
        output.WriteLine($"Vector512    {(Vector512.IsHardwareAccelerated ? "accelerated" : "not accelerated")}");
        output.WriteLine($"Vector256    {(Vector256.IsHardwareAccelerated ? "accelerated" : "not accelerated")}");
        output.WriteLine($"Vector128    {(Vector128.IsHardwareAccelerated ? "accelerated" : "not accelerated")}");
        output.WriteLine($"AVX-512 F/BW {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}/{System.Runtime.Intrinsics.X86.Avx512BW.IsSupported}, AVX2 {System.Runtime.Intrinsics.X86.Avx2.IsSupported}, FMA {System.Runtime.Intrinsics.X86.Fma.IsSupported}");
    }
}
