namespace TqConnector.Samples.WebApi;

/// <summary>One earlier turn of a <see cref="SampleChatRequest"/>.</summary>
/// <param name="Role">user, assistant or system.</param>
/// <param name="Text">The text.</param>
internal sealed record SampleChatTurn(string? Role, string? Text);
