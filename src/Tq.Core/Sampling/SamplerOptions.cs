namespace Tq.Core.Sampling;

/// <summary>
/// Sampling settings with llama.cpp's meanings and defaults. The chain runs as llama.cpp's default: penalties →
/// top-k → top-p → min-p → temperature → random draw; a temperature ≤ 0 or top-k = 1 picks the most likely token.
/// </summary>
public sealed class SamplerOptions
{
    /// <summary>Greedy decoding (temperature 0): always the most likely token after penalties.</summary>
    public static SamplerOptions Greedy => new() { Temperature = 0 };

    /// <summary>Divides the logits before the draw; ≤ 0 means greedy. Default 0.8.</summary>
    public float Temperature { get; set; } = 0.8f;

    /// <summary>Keeps the k most likely tokens; ≤ 0 keeps all. Default 40.</summary>
    public int TopK { get; set; } = 40;

    /// <summary>Keeps the smallest set of most likely tokens whose probability reaches p; 1 keeps all. Default 0.95.</summary>
    public float TopP { get; set; } = 0.95f;

    /// <summary>Drops tokens less likely than p × the most likely one; 0 keeps all. Default 0.05.</summary>
    public float MinP { get; set; } = 0.05f;

    /// <summary>Divides positive (multiplies negative) logits of tokens seen in the last <see cref="PenaltyLastN"/>; 1 disables. Default 1.</summary>
    public float RepeatPenalty { get; set; } = 1f;

    /// <summary>Subtracts count × this from the logit of each seen token. Default 0.</summary>
    public float FrequencyPenalty { get; set; }

    /// <summary>Subtracts this from the logit of each seen token. Default 0.</summary>
    public float PresencePenalty { get; set; }

    /// <summary>How many recent tokens the penalties look at; 0 disables them, -1 means the whole history. Default 64.</summary>
    public int PenaltyLastN { get; set; } = 64;

    /// <summary>Seed of the sampler's own generator: the same seed and logits give the same tokens. Null: random.</summary>
    public ulong? Seed { get; set; }

    /// <summary>A copy of every setting (the one place that knows the fields: the sampler keeps its own copy, retries change one).</summary>
    internal SamplerOptions Clone() => (SamplerOptions)MemberwiseClone();

    /// <summary>Validates the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value outside its range, or NaN.</exception>
    public void Validate()
    {
        if (float.IsNaN(Temperature) || float.IsInfinity(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "The temperature must be finite.");
        }

        if (!(TopP is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "Top-p must be in (0, 1].");
        }

        if (!(MinP is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MinP), MinP, "Min-p must be in [0, 1].");
        }

        if (!(RepeatPenalty > 0) || float.IsInfinity(RepeatPenalty))
        {
            throw new ArgumentOutOfRangeException(nameof(RepeatPenalty), RepeatPenalty, "The repeat penalty must be positive and finite.");
        }

        if (!float.IsFinite(FrequencyPenalty) || !float.IsFinite(PresencePenalty))
        {
            throw new ArgumentOutOfRangeException(nameof(FrequencyPenalty), "The frequency and presence penalties must be finite.");
        }

        if (PenaltyLastN < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(PenaltyLastN), PenaltyLastN, "The penalty window must be -1 (whole history), 0 (off) or positive.");
        }
    }
}
