using Tq.Core.Cache;

namespace Tq.Cli.Commands;

/// <summary>The KV-cache options shared by <c>tq compare</c> and <c>tq niah</c>, and the short labels of settings.</summary>
internal sealed class CacheArguments
{
    private readonly Option<string> _kind;
    private readonly OptionBinder<KvCacheOptions> _flags = new OptionBinder<KvCacheOptions>()
        .Add(new Option<double>("--bits-k") { Description = "TurboQuant key bits (2, 2.5, 3, 3.5, 4, 8).", DefaultValueFactory = _ => 4 }, (o, v) => o.BitsK = v)
        .Add(new Option<double>("--bits-v") { Description = "TurboQuant value bits (2, 2.5, 3, 3.5, 4, 8).", DefaultValueFactory = _ => 2 }, (o, v) => o.BitsV = v)
        .Add(new Option<int>("--sinks") { Description = "FP16 attention-sink tokens.", DefaultValueFactory = _ => new KvCacheOptions().SinkTokens }, (o, v) => o.SinkTokens = v)
        .Add(new Option<int>("--window") { Description = "FP16 recent tokens (0: the current token quantized too).", DefaultValueFactory = _ => new KvCacheOptions().RecentWindow }, (o, v) => o.RecentWindow = v)
        .Add(new Option<int>("--boundary") { Description = "First/last layers at --boundary-bits.", DefaultValueFactory = _ => new KvCacheOptions().BoundaryLayers }, (o, v) => o.BoundaryLayers = v)
        .Add(new Option<double>("--boundary-bits") { Description = "Bits of boundary layers (8 = Q8_0).", DefaultValueFactory = _ => 8 }, (o, v) => o.BoundaryBits = v)
        .Add(new Option<bool>("--pre-rope") { Description = "Compress keys before RoPE." }, (o, v) => o.PreRopeKeys = v)
        .Add(new Option<bool>("--qjl") { Description = "QJL residual for keys." }, (o, v) => o.KeyResidualQjl = v)
        .Add(new Option<float>("--sparse-v") { Description = "Skip value rows with a weight below this." }, (o, v) => o.SparseValueThreshold = v);

    public CacheArguments(string defaultKind = "tq") =>
        _kind = new Option<string>("--cache") { Description = "KV-cache kind: f16, q8_0 or tq (TurboQuant).", DefaultValueFactory = _ => defaultKind };

    /// <summary><c>--cache</c> and the TurboQuant flags.</summary>
    public IEnumerable<Option> Options => [_kind, .. _flags.Options];

    /// <summary>A <c>--cache</c> name: f16, q8_0 (or q8), tq (or turboquant), in any case.</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static KvCacheKind ParseKind(string name) => name.ToUpperInvariant() switch
    {
        "F16" => KvCacheKind.F16,
        "Q8_0" or "Q8" => KvCacheKind.Q8_0,
        "TQ" or "TURBOQUANT" => KvCacheKind.TurboQuant,
        _ => throw new ArgumentException($"Unknown cache kind '{name.ToUpperInvariant()}'; use f16, q8_0 or tq."),
    };

    public KvCacheOptions Read(ParseResult parse) => Read(parse, parse.GetValue(_kind)!);

    /// <summary>One options object per kind of a comma list (<c>--cache f16,q8_0,tq</c>), the other flags shared.</summary>
    public IReadOnlyList<KvCacheOptions> ReadAll(ParseResult parse) =>
        parse.GetValue(_kind)!.Split(',', StringSplitOptions.TrimEntries).Select(kind => Read(parse, kind)).ToArray();

    private KvCacheOptions Read(ParseResult parse, string kindName)
    {
        KvCacheOptions options = _flags.Bind(parse, new KvCacheOptions { Kind = ParseKind(kindName) });
        options.Validate();
        return options;
    }

    /// <summary>A short label: <c>F16</c>, <c>Q8_0</c>, or e.g. <c>K4/V2 s4 w8 b0</c> with the flags that are on.</summary>
    public static string Label(KvCacheOptions o)
    {
        if (o.Kind != KvCacheKind.TurboQuant)
        {
            return o.Kind.ToString();
        }

        string s = string.Create(CultureInfo.InvariantCulture, $"K{o.BitsK}/V{o.BitsV} s{o.SinkTokens} w{o.RecentWindow} b{o.BoundaryLayers}");
        if (o.BoundaryLayers > 0 && o.BoundaryBits != 8)
        {
            s += string.Create(CultureInfo.InvariantCulture, $"@{o.BoundaryBits}");
        }

        if (o.ValueNormCorrection is { } nc)
        {
            s += nc ? " vnc" : " no-vnc";
        }

        if (o.PreRopeKeys)
        {
            s += " pre";
        }

        if (o.KeyResidualQjl)
        {
            s += " qjl";
        }

        if (o.SparseValueThreshold > 0)
        {
            s += string.Create(CultureInfo.InvariantCulture, $" sv{o.SparseValueThreshold}");
        }

        return s;
    }
}
