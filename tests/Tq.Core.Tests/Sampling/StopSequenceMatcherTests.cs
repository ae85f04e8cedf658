using Tq.Core.Sampling;
using Xunit;

namespace Tq.Core.Tests.Sampling;

public sealed class StopSequenceMatcherTests
{
    [Theory]
    [InlineData(new[] { "Hello", " wor", "ld", "\nUser:", " more" }, "Hello world\n", true)]
    [InlineData(new[] { "Hello", " Us", "ually" }, "Hello Usually", false)]
    [InlineData(new[] { "a", "b\nUs", "er: x" }, "ab\n", true)]
    public void Append_StopSplitAcrossPieces_EmitsTextBeforeIt(string[] pieces, string expected, bool stopped)
    {
        var matcher = new StopSequenceMatcher(["User:"]);
        string text = string.Concat(pieces.Select(matcher.Append)) + matcher.Flush();
        Assert.Equal(expected, text);
        Assert.Equal(stopped, matcher.Stopped);
    }

    [Fact]
    public void Append_PossibleStopPrefix_IsHeldBack()
    {
        var matcher = new StopSequenceMatcher(["</s>"]);
        Assert.Equal("x", matcher.Append("x</"));
        Assert.Equal("</y", matcher.Append("y"));
        Assert.False(matcher.Stopped);
    }

    [Fact]
    public void Append_NoStops_PassesThrough()
    {
        var matcher = new StopSequenceMatcher([]);
        Assert.Equal("abc", matcher.Append("abc"));
        Assert.Equal(string.Empty, matcher.Flush());
    }
}
