namespace Tq.Soak;

/// <summary>What one soak request does.</summary>
internal enum SoakKind
{
    Stream,
    Chat,
    Tools,
    Cancel,
    Disconnect,
    Invalid,
}

/// <summary>One request of the mix: its kind and body.</summary>
internal sealed record SoakRequest(SoakKind Kind, string Body, bool Stream)
{
    private static readonly string[] s_questions = ["Hello! Who are you?", "Tell me a story.", "What is the weather in Oslo?", "Add 2 and 3.", "Write a poem about the sea."];

    private const string Tools = """[{"type": "function", "function": {"name": "get_weather", "description": "Get the weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}, {"type": "function", "function": {"name": "add", "description": "Add two numbers", "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}}]""";

    /// <summary>35% streamed chats, 25% plain chats, 15% tool calls, 10% cancelled, 10% disconnected, 5% invalid.</summary>
    public static SoakRequest Next(Random random)
    {
        int pick = random.Next(100);
        string question = s_questions[random.Next(s_questions.Length)];
        int maxTokens = random.Next(16, 129);
        string messages = $$"""[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "{{question}}"}]""";
        double temperature = Math.Round(random.NextDouble(), 2);
        return pick switch
        {
            < 35 => new(SoakKind.Stream, $$"""{"messages": {{messages}}, "stream": true, "stream_options": {"include_usage": true}, "max_tokens": {{maxTokens}}, "temperature": {{temperature}}}""", true),
            < 60 => new(SoakKind.Chat, $$"""{"messages": {{messages}}, "max_tokens": {{maxTokens}}, "temperature": {{temperature}}}""", false),
            < 75 => Tool(random, messages, maxTokens),
            < 85 => new(SoakKind.Cancel, $$"""{"messages": {{messages}}, "stream": {{(random.Next(2) == 0 ? "true" : "false")}}, "max_tokens": 256}""", false),
            < 95 => new(SoakKind.Disconnect, $$"""{"messages": {{messages}}, "stream": true, "max_tokens": 256}""", true),
            _ => new(SoakKind.Invalid, $$"""{"messages": {{messages}}, "temperature": {{random.Next(3, 9)}}}""", false),
        };
    }

    private static SoakRequest Tool(Random random, string messages, int maxTokens)
    {
        string choice = random.Next(3) switch { 0 => "\"auto\"", 1 => "\"required\"", _ => """{"type": "function", "function": {"name": "get_weather"}}""" };
        bool stream = random.Next(2) == 0;
        return new(SoakKind.Tools, $$"""{"messages": {{messages}}, "tools": {{Tools}}, "tool_choice": {{choice}}, "max_tokens": {{maxTokens}}, "stream": {{(stream ? "true" : "false")}}}""", stream);
    }
}
