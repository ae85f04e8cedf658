using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Tq.AspNetCore;

/// <summary>
/// Source-generated JSON metadata for the values the endpoint converts itself (a request's tool-call arguments, schemas): no
/// reflection, so the endpoint works in trimmed and NativeAOT apps (<c>tq</c> published with <c>PublishTrimmed</c>).
/// </summary>
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class OpenAIJsonContext : JsonSerializerContext;
