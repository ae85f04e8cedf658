using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tq.Core.Sampling;

/// <summary>
/// Source-generated JSON metadata for the values the libraries write themselves (the JSON constraint's schema literals,
/// Tq.Extensions.AI's quoted tool names): no reflection at run time, so they stay trimming- and NativeAOT-safe.
/// </summary>
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class TqJsonContext : JsonSerializerContext;
