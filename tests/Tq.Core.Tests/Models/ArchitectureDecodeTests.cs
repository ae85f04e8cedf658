using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Sampling;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Models;

/// <summary>Decoding through every architecture's pieces (MoE routing, sliding rings, soft-caps) allocates nothing per token.</summary>
public sealed class ArchitectureDecodeTests
{
    [Theory]
    [InlineData("arch-gemma2.gguf")]
    [InlineData("arch-gemma3.gguf")]
    [InlineData("arch-qwen3moe.gguf")]
    [InlineData("arch-phi3-longrope.gguf")]
    [InlineData("arch-qwen2-yarn.gguf")]
    public void Append_SteadyState_AllocatesNothing(string name)
    {
        using Model model = Model.Load(TestPaths.Model(Path.Combine("arch", name)), new ModelOptions { Threads = 1 });
        using Session session = model.CreateSession(new SessionOptions { ContextLength = 256, BatchSize = 8 });
        var sampler = new Sampler(new SamplerOptions { Seed = 1 });

        // Past the 64-token window, so the sliding layers' rings have wrapped.
        session.Evaluate([.. Enumerable.Range(1, 90)]);
        for (int i = 0; i < 4; i++)
        {
            session.Append(sampler.Sample(session.Logits, session.Tokens));
        }

        Assert.Equal(0, SteadyState.AllocatedBytes(() => session.Append(sampler.Sample(session.Logits, session.Tokens))));
    }
}
