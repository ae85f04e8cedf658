namespace Tq.Core.Tokenization;

/// <summary>llama.cpp's <c>unicode_cpt_flags</c> categories for one code point, from .NET's Unicode tables.</summary>
[Flags]
internal enum CodepointFlags : ushort
{
    None = 0,
    Undefined = 0x0001,
    Number = 0x0002,
    Letter = 0x0004,
    Separator = 0x0008,
    AccentMark = 0x0010,
    Punctuation = 0x0020,
    Symbol = 0x0040,
    Control = 0x0080,
    Whitespace = 0x0100,
}
