using System.Globalization;

namespace Tq.Core.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar, a string, or a typed array. Arrays keep their natural .NET element type
/// (<c>string[]</c>, <c>float[]</c>, <c>int[]</c>, ...); nested arrays are <c>GgufValue[]</c>.
/// </summary>
public sealed class GgufValue
{
    internal GgufValue(GgufValueType type, object value, GgufValueType elementType = GgufValueType.UInt8)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    /// <summary>The value's type tag.</summary>
    public GgufValueType Type { get; }

    /// <summary>For arrays, the element type tag; otherwise meaningless.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>The raw value: a boxed scalar, a <see cref="string"/>, or a typed array.</summary>
    public object Value { get; }

    /// <summary>Whether the value is an array.</summary>
    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>The element count of an array value.</summary>
    /// <exception cref="InvalidCastException">The value is not an array.</exception>
    public int Count => IsArray ? ((Array)Value).Length : throw WrongType("an array");

    /// <summary>The value as a string.</summary>
    /// <exception cref="InvalidCastException">The value is not a string.</exception>
    public string AsString() => Value as string ?? throw WrongType("a string");

    /// <summary>The value as a boolean.</summary>
    /// <exception cref="InvalidCastException">The value is not a boolean.</exception>
    public bool AsBoolean() => Value is bool b ? b : throw WrongType("a boolean");

    /// <summary>Any integer value as <see cref="long"/>.</summary>
    /// <exception cref="InvalidCastException">The value is not an integer, or a UInt64 above <see cref="long.MaxValue"/>.</exception>
    public long AsInt64() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => throw WrongType("an integer"),
    };

    /// <summary>Any integer value as <see cref="int"/>.</summary>
    /// <exception cref="InvalidCastException">The value is not an integer or does not fit.</exception>
    public int AsInt32()
    {
        long v = AsInt64();
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw WrongType("a 32-bit integer");
    }

    /// <summary>Any numeric value as <see cref="double"/>.</summary>
    /// <exception cref="InvalidCastException">The value is not numeric.</exception>
    public double AsDouble() => Value switch
    {
        float f => f,
        double d => d,
        ulong u => u,
        _ => AsInt64(),
    };

    /// <summary>A string array.</summary>
    /// <exception cref="InvalidCastException">The value is not an array of strings.</exception>
    public IReadOnlyList<string> AsStringArray() => Value as string[] ?? throw WrongType("an array of strings");

    /// <summary>A numeric array as floats (Float32 arrays are returned as they are).</summary>
    /// <exception cref="InvalidCastException">The value is not a numeric array.</exception>
    public float[] AsSingleArray() => Value switch
    {
        float[] f => f,
        double[] d => Array.ConvertAll(d, x => (float)x),
        Array a when IsIntegerElement(ElementType) => ToInt64Array(a).Select(x => (float)x).ToArray(),
        _ => throw WrongType("a numeric array"),
    };

    /// <summary>An integer array as <see cref="int"/> values (Int32 arrays are returned as they are).</summary>
    /// <exception cref="InvalidCastException">The value is not an integer array or an element does not fit.</exception>
    public int[] AsInt32Array() => Value switch
    {
        int[] i => i,
        Array a when IsIntegerElement(ElementType) => ToInt64Array(a).Select(x => x is >= int.MinValue and <= int.MaxValue ? (int)x : throw WrongType("an array of 32-bit integers")).ToArray(),
        _ => throw WrongType("an integer array"),
    };

    /// <inheritdoc />
    public override string ToString() => Value switch
    {
        string s => s,
        Array a => $"[{ElementType} x {a.Length}]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? string.Empty,
    };

    private static bool IsIntegerElement(GgufValueType t) => t is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16
        or GgufValueType.Int16 or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    private static long[] ToInt64Array(Array a)
    {
        var result = new long[a.Length];
        for (int i = 0; i < result.Length; i++)
        {
            object? item = a.GetValue(i);
            result[i] = item switch
            {
                ulong u when u > long.MaxValue => throw new InvalidCastException($"Array element {u} does not fit in a 64-bit signed integer."),
                ulong u => (long)u,
                _ => Convert.ToInt64(item, CultureInfo.InvariantCulture),
            };
        }

        return result;
    }

    private InvalidCastException WrongType(string expected) =>
        new($"GGUF value of type {Type}{(IsArray ? $" of {ElementType}" : string.Empty)} is not {expected}.");
}
