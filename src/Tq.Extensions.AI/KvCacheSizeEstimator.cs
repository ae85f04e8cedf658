using Tq.Core.Gguf;

namespace Tq.Extensions.AI;

/// <summary>
/// Estimates the KV-cache bytes of one session at full context from the GGUF header and the options: FP16 for the
/// boundary layers and for the sink and recent-window rows, codes plus an FP16 norm per row for the rest.
/// </summary>
/// <remarks>
/// An estimate for startup validation; the engine's cache reports its exact size. Packing overheads (chunk headers,
/// alignment) are left out: they are a small fraction of the total.
/// </remarks>
internal static class KvCacheSizeEstimator
{
    public static long EstimateSessionBytes(GgufModelInfo model, TurboQuantChatOptions options)
    {
        long context = options.ContextSize > 0 ? options.ContextSize : model.ContextLength;
        int layers = model.BlockCount;
        int fullLayers = Math.Min(layers, 2 * Math.Max(0, options.BoundaryLayers));
        double fp16Row = 16.0 * (model.KeyLength + model.ValueLength);
        double compressedRow = KeyBits(model.KeyLength, options) + ValueBits(model.ValueLength, options);
        long fp16Tokens = Math.Min(context, (long)options.SinkTokens + options.RecentWindow);
        double bitsPerHead =
            (fullLayers * context * fp16Row)
            + ((layers - fullLayers) * ((fp16Tokens * fp16Row) + ((context - fp16Tokens) * compressedRow)));
        return (long)Math.Ceiling(bitsPerHead * model.HeadCountKv / 8);
    }

    private static double KeyBits(int dims, TurboQuantChatOptions options) => options.BitsK switch
    {
        16f => 16.0 * dims,
        8f => 8.5 * dims, // Q8_0: 32 codes + an FP16 scale per block
        _ => (options.BitsK * dims) + 16 + (options.UseQjl ? dims + 16 : 0), // codes + FP16 norm (+ QJL signs and norm)
    };

    private static double ValueBits(int dims, TurboQuantChatOptions options) => options.BitsV switch
    {
        16f => 16.0 * dims,
        8f => 8.5 * dims,
        _ => (options.BitsV * dims) + 16,
    };
}
