using Tq.Core.Cache;

namespace Tq.Cli.Commands;

/// <summary>The KV-cache options shared by <c>tq compare</c> and <c>tq niah</c>, and the short labels of settings.</summary>
internal sealed class CacheArguments
{
    private readonly Option<string> _kind;
    private readonly Option<double> _bitsK = new("--bits-k") { Description = "TurboQuant key bits (2, 2.5, 3, 3.5, 4, 8).", DefaultValueFactory = _ => 4 };
    private readonly Option<double> _bitsV = new("--bits-v") { Description = "TurboQuant value bits (2, 2.5, 3, 3.5, 4, 8).", DefaultValueFactory = _ => 2 };
    private readonly Option<int> _sinks = new("--sinks") { Description = "FP16 attention-sink tokens.", DefaultValueFactory = _ => new KvCacheOptions().SinkTokens };
    private readonly Option<int> _window = new("--window") { Description = "FP16 recent tokens (0: the current token quantized too).", DefaultValueFactory = _ => new KvCacheOptions().RecentWindow };
    private readonly Option<int> _boundary = new("--boundary") { Description = "First/last layers at --boundary-bits.", DefaultValueFactory = _ => new KvCacheOptions().BoundaryLayers };
    private readonly Option<double> _boundaryBits = new("--boundary-bits") { Description = "Bits of boundary layers (8 = Q8_0).", DefaultValueFactory = _ => 8 };
    private readonly Option<bool> _preRope = new("--pre-rope") { Description = "Compress keys before RoPE." };
    private readonly Option<bool> _qjl = new("--qjl") { Description = "QJL residual for keys." };
    private readonly Option<float> _sparse = new("--sparse-v") { Description = "Skip value rows with a weight below this." };

    public CacheArguments(string defaultKind = "tq") =>
        _kind = new Option<string>("--cache") { Description = "KV-cache kind: f16, q8_0 or tq (TurboQuant).", DefaultValueFactory = _ => defaultKind };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { _kind, _bitsK, _bitsV, _sinks, _window, _boundary, _boundaryBits, _preRope, _qjl, _sparse })
        {
            command.Options.Add(o);
        }
    }

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
        var options = new KvCacheOptions
        {
            Kind = ParseKind(kindName),
            BitsK = parse.GetValue(_bitsK),
            BitsV = parse.GetValue(_bitsV),
            SinkTokens = parse.GetValue(_sinks),
            RecentWindow = parse.GetValue(_window),
            BoundaryLayers = parse.GetValue(_boundary),
            BoundaryBits = parse.GetValue(_boundaryBits),
            PreRopeKeys = parse.GetValue(_preRope),
            KeyResidualQjl = parse.GetValue(_qjl),
            SparseValueThreshold = parse.GetValue(_sparse),
        };
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
