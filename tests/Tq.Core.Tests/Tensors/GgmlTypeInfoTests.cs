using Tq.Core.Tensors;

namespace Tq.Core.Tests.Tensors;

public sealed class GgmlTypeInfoTests
{
    [Theory]
    [InlineData(GgmlType.F32, 1, 4)]
    [InlineData(GgmlType.F16, 1, 2)]
    [InlineData(GgmlType.BF16, 1, 2)]
    [InlineData(GgmlType.Q4_0, 32, 18)]
    [InlineData(GgmlType.Q4_1, 32, 20)]
    [InlineData(GgmlType.Q5_0, 32, 22)]
    [InlineData(GgmlType.Q5_1, 32, 24)]
    [InlineData(GgmlType.Q8_0, 32, 34)]
    [InlineData(GgmlType.Q2_K, 256, 84)]
    [InlineData(GgmlType.Q3_K, 256, 110)]
    [InlineData(GgmlType.Q4_K, 256, 144)]
    [InlineData(GgmlType.Q5_K, 256, 176)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.Q8_K, 256, 292)]
    public void Layout_KnownType_MatchesGgml(GgmlType type, int blockSize, int typeSize)
    {
        Assert.Equal(blockSize, GgmlTypeInfo.BlockSize(type));
        Assert.Equal(typeSize, GgmlTypeInfo.TypeSize(type));
    }

    [Fact]
    public void BlockSize_UnknownId_ThrowsNamingTheId()
    {
        var ex = Assert.Throws<NotSupportedException>(() => GgmlTypeInfo.BlockSize((GgmlType)4));
        Assert.Contains("4", ex.Message);
    }

    [Fact]
    public void RowSize_PartialBlock_Throws()
    {
        Assert.Throws<ArgumentException>(() => GgmlTypeInfo.RowSize(GgmlType.Q4_K, 100));
        Assert.Equal(144 * 2, GgmlTypeInfo.RowSize(GgmlType.Q4_K, 512));
    }
}
