using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Sampling;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Engine;

public sealed class GreedyReferenceTests
{
    // llama.cpp's first 32 tokens must match exactly; later ones may flip on near-ties (measured: the q8_0 and
    // q4_k_m models diverge at tokens 39 and 57 of one prompt each, where llama.cpp's top two differ by < 0.03 nats).
    private const int MatchedTokens = 32;

    // A mismatch is accepted only where llama.cpp's two best tokens are this close (nats). Measured: one case,
    // tq-stories-5m-q4_k_m prompt 3 token 26, where llama.cpp's top two differ by 0.0125.
    private const double NearTie = 0.015;

    // Largest difference allowed between the engine's log-probability of llama.cpp's token and llama.cpp's own.
    // Measured: ≤ 0.0021 nats for the F32/F16 models, ≤ 0.029 for q8_0/q4_k_m (Q8 activation rounding differs in detail).
    private static double LogProbTolerance(string model) => model.Contains("q8_0", StringComparison.Ordinal) || model.Contains("q4_k", StringComparison.Ordinal) ? 0.05 : 0.005;

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string model in ReferenceData.GreedyModels)
        {
            for (int i = 0; i < ReferenceData.Greedy(model).Length; i++)
            {
                data.Add(model, i);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generate_Greedy_MatchesLlamaCppTokens(string model, int prompt)
    {
        ReferenceData.GreedyCase reference = ReferenceData.Greedy(model)[prompt];
        using Model m = Model.Load(TestPaths.Model(model + ".gguf"), new ModelOptions { Threads = 1 });
        using Session session = m.CreateSession(new SessionOptions { ContextLength = 512 });
        session.SetHistory(reference.PromptTokens);
        var sampler = new Sampler(SamplerOptions.Greedy);
        double worst = 0;
        for (int i = 0; i < MatchedTokens; i++)
        {
            ReadOnlySpan<float> logits = session.Logits;
            int token = sampler.Sample(logits, session.Tokens);
            if (token != reference.Tokens[i])
            {
                // A near-tie in llama.cpp's own figures: rounding order decides, and the continuations diverge from here.
                (int Id, double LogProb)[] top = reference.Top5[i];
                double ours = top.FirstOrDefault(t => t.Id == token, (Id: -1, LogProb: double.NegativeInfinity)).LogProb;
                Assert.True(top[0].LogProb - ours <= NearTie,
                    $"{model} '{reference.Prompt}': token {i} is {token}, llama.cpp gave {reference.Tokens[i]}; its top-5 there: "
                    + string.Join(", ", top.Select(t => $"{t.Id}:{t.LogProb:F4}")));
                break;
            }

            worst = Math.Max(worst, Math.Abs(LogProb(logits, token) - reference.Top5[i][0].LogProb));
            session.Append(token);
        }

        Assert.True(worst <= LogProbTolerance(model), $"{model} '{reference.Prompt}': log-probabilities differ from llama.cpp's by up to {worst:F5}.");
    }

    private static double LogProb(ReadOnlySpan<float> logits, int token)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits)
        {
            max = MathF.Max(max, l);
        }

        double sum = 0;
        foreach (float l in logits)
        {
            sum += Math.Exp(l - max);
        }

        return logits[token] - max - Math.Log(sum);
    }
}
