namespace Tq.Core.Templates;

/// <summary>How a statement finished: normally, or by <c>{% break %}</c> / <c>{% continue %}</c>.</summary>
internal enum LoopControl
{
    /// <summary>Carry on with the next statement.</summary>
    None,

    /// <summary>Leave the innermost loop.</summary>
    Break,

    /// <summary>Skip to the innermost loop's next iteration.</summary>
    Continue,
}
