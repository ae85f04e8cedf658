namespace Tq.Core.Cache;

/// <summary>Builds the cache a <see cref="KvCacheOptions"/> describes.</summary>
internal static class KvCacheFactory
{
    /// <summary>Creates the cache of kind <see cref="KvCacheOptions.Kind"/> for <paramref name="layout"/>.</summary>
    /// <exception cref="ArgumentException">Invalid options, or options the model's heads cannot use.</exception>
    public static IKvCache Create(KvCacheLayout layout, KvCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Kind switch
        {
            KvCacheKind.F16 => new F16KvCache(layout),
            KvCacheKind.Q8_0 => new CompressedKvCache(layout, Codecs(layout, layout.KeyLength, _ => 8, false, 0), Codecs(layout, layout.ValueLength, _ => 8, false, 1), 0, 0, false, 0),
            _ => CreateTurboQuant(layout, options),
        };
    }

    /// <summary>The exact memory the cache of <paramref name="options"/> would take for <paramref name="layout"/>, without allocating it.</summary>
    public static KvCacheFootprint Footprint(KvCacheLayout layout, KvCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        long f16 = (long)layout.Layers * layout.KvHeads * (layout.KeyLength + layout.ValueLength) * sizeof(ushort);
        if (options.Kind == KvCacheKind.F16)
        {
            return new KvCacheFootprint(f16, 0, 0, f16);
        }

        bool tq = options.Kind == KvCacheKind.TurboQuant;
        KvRowCodec[] keys = tq ? KeyCodecs(layout, options) : Codecs(layout, layout.KeyLength, _ => 8, false, 0);
        KvRowCodec[] values = tq ? ValueCodecs(layout, options) : Codecs(layout, layout.ValueLength, _ => 8, false, 1);
        long perToken = 0;
        for (int l = 0; l < layout.Layers; l++)
        {
            perToken += (long)layout.KvHeads * (keys[l].RowBytes + values[l].RowBytes);
        }

        int sinks = tq ? Math.Min(options.SinkTokens, layout.Capacity) : 0;
        int window = tq ? Math.Min(options.RecentWindow, layout.Capacity) : 0;
        long fixedBytes = (long)layout.Layers * layout.KvHeads * (sinks + window) * (layout.KeyLength + layout.ValueLength) * sizeof(ushort);
        if (tq && options.PreRopeKeys)
        {
            fixedBytes += (long)layout.Capacity * layout.Rope.TableLength * sizeof(float);
        }

        return new KvCacheFootprint(perToken, fixedBytes, sinks, f16);
    }

    /// <summary>Whether layer <paramref name="layer"/> of <paramref name="layers"/> is a boundary layer for <paramref name="options"/>.</summary>
    public static bool IsBoundary(int layer, int layers, KvCacheOptions options) =>
        layer < options.BoundaryLayers || layer >= layers - options.BoundaryLayers;

    private static CompressedKvCache CreateTurboQuant(KvCacheLayout layout, KvCacheOptions options) =>
        new(layout, KeyCodecs(layout, options), ValueCodecs(layout, options), options.SinkTokens, options.RecentWindow, options.PreRopeKeys, options.SparseValueThreshold);

    // Codecs are immutable and thread-safe: layers with the same encoding share one instance (and its tables).
    private static KvRowCodec Shared(Dictionary<(int, double, bool), KvRowCodec> made, int dimension, double bits, bool qjl, ulong seed, bool? normCorrection)
    {
        if (!made.TryGetValue((dimension, bits, qjl), out KvRowCodec? codec))
        {
            codec = KvRowCodec.Create(dimension, bits, qjl, seed, normCorrection);
            made.Add((dimension, bits, qjl), codec);
        }

        return codec;
    }

    private static KvRowCodec[] KeyCodecs(KvCacheLayout layout, KvCacheOptions o)
    {
        var made = new Dictionary<(int, double, bool), KvRowCodec>();
        var codecs = new KvRowCodec[layout.Layers];
        for (int l = 0; l < codecs.Length; l++)
        {
            bool boundary = IsBoundary(l, layout.Layers, o);
            double bits = boundary ? o.BoundaryBits : o.BitsK;
            bool qjl = o.KeyResidualQjl && bits is 2 or 3 or 4 && !boundary;
            codecs[l] = Shared(made, layout.KeyLength, bits, qjl, o.Seed, null);
        }

        return codecs;
    }

    private static KvRowCodec[] ValueCodecs(KvCacheLayout layout, KvCacheOptions o)
    {
        var made = new Dictionary<(int, double, bool), KvRowCodec>();
        var codecs = new KvRowCodec[layout.Layers];
        for (int l = 0; l < codecs.Length; l++)
        {
            double bits = IsBoundary(l, layout.Layers, o) ? o.BoundaryBits : o.BitsV;
            codecs[l] = Shared(made, layout.ValueLength, bits, false, o.Seed + 1, o.ValueNormCorrection ?? true);
        }

        return codecs;
    }

    /// <summary>Codecs of rows of <paramref name="dimension"/> values: the key length for keys, the value length for values.</summary>
    private static KvRowCodec[] Codecs(KvCacheLayout layout, int dimension, Func<int, double> bits, bool qjl, ulong seed)
    {
        var made = new Dictionary<(int, double, bool), KvRowCodec>();
        var codecs = new KvRowCodec[layout.Layers];
        for (int l = 0; l < codecs.Length; l++)
        {
            codecs[l] = Shared(made, dimension, bits(l), qjl, seed, null);
        }

        return codecs;
    }
}
