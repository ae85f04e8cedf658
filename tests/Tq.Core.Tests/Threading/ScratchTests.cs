using Tq.Core.Threading;

namespace Tq.Core.Tests.Threading;

public sealed class ScratchTests
{
    [Fact]
    public void Grow_ByOneElementAtATime_ReallocatesLogarithmically()
    {
        // Attention scratch needs one more element per cached token; growing to the exact need would allocate on
        // every decoded token.
        float[]? slot = null;
        var seen = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        for (int length = 1; length <= 100_000; length++)
        {
            float[] array = Scratch.Grow(ref slot, length, 8192);
            Assert.True(array.Length >= length);
            Assert.Same(slot, array);
            seen.Add(array);
        }

        Assert.InRange(seen.Count, 1, 5); // 8192, 16384, 32768, 65536, 131072
    }

    [Fact]
    public void GrowPinned_KeepsTheArrayWhileLongEnough_AndGrowsToTheNeedWhenMoreThanDouble()
    {
        byte[]? slot = null;
        byte[] first = Scratch.GrowPinned(ref slot, 100, 256);
        Assert.Equal(256, first.Length);
        Assert.Same(first, Scratch.GrowPinned(ref slot, 256, 256));
        Assert.Equal(512, Scratch.GrowPinned(ref slot, 257, 256).Length);
        Assert.Equal(5000, Scratch.GrowPinned(ref slot, 5000, 256).Length);
    }
}
