namespace Tq.Extensions.AI.ToolCalling;

/// <summary>The syntax a model uses to write tool calls into its generated text.</summary>
public enum ToolCallFormat
{
    /// <summary>Detect the format from the model's chat template (<see cref="ToolCallParser.DetectFormat(string?)"/>).</summary>
    Auto = 0,

    /// <summary>No tool-call parsing: the generated text is passed through unchanged.</summary>
    None,

    /// <summary>
    /// Qwen 2.5/3, Hermes 2 Pro/3 and the <c>tq-chat</c> models: <c>&lt;tool_call&gt;{"name": ..., "arguments": {...}}&lt;/tool_call&gt;</c>,
    /// one element per call; also Qwen 3.5's <c>&lt;tool_call&gt;&lt;function=name&gt;&lt;parameter=key&gt;value&lt;/parameter&gt;&lt;/function&gt;&lt;/tool_call&gt;</c>.
    /// </summary>
    Hermes,

    /// <summary>
    /// Llama 3.1/3.2/3.3: a JSON object <c>{"name": ..., "parameters": {...}}</c> at the start of the answer (several
    /// separated by <c>;</c>), or <c>&lt;|python_tag|&gt;</c> followed by such an object, a built-in call
    /// <c>tool.call(key="value")</c>, or Python code (reported as a call to <c>python</c> with a <c>code</c> argument).
    /// </summary>
    Llama3,

    /// <summary>
    /// Mistral: <c>[TOOL_CALLS][{"name": ..., "arguments": {...}, "id": ...}]</c>, and the newer
    /// <c>[TOOL_CALLS]name[ARGS]{...}</c> (optionally <c>[TOOL_CALLS]name[CALL_ID]id[ARGS]{...}</c>) form.
    /// </summary>
    Mistral,

    /// <summary>
    /// The prompt-based fallback for models without a native tool syntax: the system prompt carries
    /// <see cref="ToolCallPrompt.CreateInstructions(IEnumerable{Microsoft.Extensions.AI.AITool})"/> and the model answers
    /// with fenced blocks <c>```tool_call</c> holding <c>{"name": ..., "arguments": {...}}</c>.
    /// </summary>
    Prompt,
}
