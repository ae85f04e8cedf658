using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tq.Extensions.AI;

/// <summary>
/// Source-generated JSON metadata for the values the library writes itself (quoted names, schema literals): no
/// reflection at run time, so the library stays trimming- and NativeAOT-safe.
/// </summary>
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class TqJsonContext : JsonSerializerContext;
