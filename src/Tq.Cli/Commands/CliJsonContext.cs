using System.Text.Json.Serialization;
using Tq.Core.Diagnostics;
using Tq.Core.Quantization;

namespace Tq.Cli.Commands;

/// <summary>
/// Source-generated JSON for what the commands write and read: no reflection, so <c>tq</c> publishes trimmed (and
/// NativeAOT) without warnings. Outputs built from a few scalars use <c>JsonObject</c> instead.
/// </summary>
[JsonSerializable(typeof(string))]
internal sealed partial class CliJsonContext : JsonSerializerContext;

/// <summary><c>tq compare --json</c>: indented, snake_case names.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(List<CompareCommand.CompareResult>))]
internal sealed partial class CompareJsonContext : JsonSerializerContext;

/// <summary><c>tq benchmark --json</c>: indented, camelCase names.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(List<QuantizerReport>))]
internal sealed partial class BenchmarkJsonContext : JsonSerializerContext;
