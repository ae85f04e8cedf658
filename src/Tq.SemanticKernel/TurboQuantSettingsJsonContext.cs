using System.Text.Json.Serialization;

namespace Tq.SemanticKernel;

/// <summary>
/// Source-generated JSON metadata that reads <see cref="TurboQuantPromptExecutionSettings"/> from any settings' JSON
/// (names case-insensitive, numbers also from strings): no reflection, so the connector stays trimming- and AOT-safe.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(TurboQuantPromptExecutionSettings))]
internal sealed partial class TurboQuantSettingsJsonContext : JsonSerializerContext;
