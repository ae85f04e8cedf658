using Tq.Core.Tensors;

namespace Tq.Core.Tests.Tensors;

public sealed class FloatConversionTests
{
    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        for (int n = 0; n <= 40; n++)
        {
            data.Add(n);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void HalfToSingle_EveryPath_EqualsScalarConversion(int length)
    {
        var random = new Random(length);
        Half[] source = new Half[length];
        for (int i = 0; i < length; i++)
        {
            source[i] = BitConverter.UInt16BitsToHalf((ushort)random.Next(0, 65536));
        }

        foreach (SimdPath path in SimdPaths.Supported)
        {
            float[] actual = new float[length];
            FloatConversion.HalfToSingle(source, actual, path);
            for (int i = 0; i < length; i++)
            {
                float expected = (float)source[i];
                Assert.True(float.IsNaN(expected) ? float.IsNaN(actual[i]) : expected.Equals(actual[i]), $"{path} element {i}: {expected} vs {actual[i]}");
            }
        }
    }

    [Fact]
    public void HalfToSingle_EveryBitPattern_EqualsHalfCast()
    {
        for (int bits = 0; bits < 65536; bits++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            float actual = FloatConversion.HalfToSingle((ushort)bits);
            Assert.True(float.IsNaN(expected) ? float.IsNaN(actual) : BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual), $"0x{bits:X4}");
        }
    }

    [Fact]
    public void HalfToSingle_SpecialValues_AreExact()
    {
        Half[] source = [Half.Zero, Half.NegativeZero, Half.Epsilon, -Half.Epsilon, Half.MaxValue, Half.MinValue, Half.PositiveInfinity, Half.NegativeInfinity, Half.NaN,
            BitConverter.UInt16BitsToHalf(0x03ff), BitConverter.UInt16BitsToHalf(0x0400), (Half)1, (Half)(-2.5f),
            (Half)0, (Half)0, (Half)0, (Half)0];
        foreach (SimdPath path in SimdPaths.Supported)
        {
            float[] actual = new float[source.Length];
            FloatConversion.HalfToSingle(source, actual, path);
            for (int i = 0; i < source.Length; i++)
            {
                Assert.Equal(BitConverter.SingleToUInt32Bits((float)source[i]) & (Half.IsNaN(source[i]) ? 0xFFC00000 : 0xFFFFFFFF),
                    BitConverter.SingleToUInt32Bits(actual[i]) & (Half.IsNaN(source[i]) ? 0xFFC00000 : 0xFFFFFFFF));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void BFloat16_EveryPath_EqualsScalarConversion(int length)
    {
        var random = new Random(length + 100);
        float[] source = GgmlReference.RandomFloats(length, random, 1000f);
        if (length > 3)
        {
            source[0] = float.NaN;
            source[1] = BitConverter.UInt32BitsToSingle(0x3F808000); // exact tie, rounds to even (down)
            source[2] = BitConverter.UInt32BitsToSingle(0x3F818000); // exact tie, rounds to even (up)
            source[3] = float.NegativeInfinity;
        }

        ushort[] scalar = new ushort[length];
        FloatConversion.SingleToBFloat16(source, scalar, SimdPath.Scalar);
        if (length > 3)
        {
            Assert.Equal(0x7FC0, scalar[0] & 0x7FC0);
            Assert.Equal(0x3F80, scalar[1]);
            Assert.Equal(0x3F82, scalar[2]);
            Assert.Equal(0xFF80, scalar[3]);
        }

        foreach (SimdPath path in SimdPaths.Supported)
        {
            ushort[] bits = new ushort[length];
            FloatConversion.SingleToBFloat16(source, bits, path);
            Assert.Equal(scalar, bits);
            float[] back = new float[length];
            FloatConversion.BFloat16ToSingle(bits, back, path);
            for (int i = 0; i < length; i++)
            {
                Assert.Equal(BitConverter.UInt32BitsToSingle((uint)bits[i] << 16), back[i]);
            }
        }
    }

    [Fact]
    public void Conversions_ShortDestination_Throw()
    {
        Assert.Throws<ArgumentException>(() => FloatConversion.HalfToSingle(new Half[4], new float[3]));
        Assert.Throws<ArgumentException>(() => FloatConversion.SingleToHalf(new float[4], new Half[3]));
        Assert.Throws<ArgumentException>(() => FloatConversion.SingleToBFloat16(new float[4], new ushort[3]));
        Assert.Throws<ArgumentException>(() => FloatConversion.BFloat16ToSingle(new ushort[4], new float[3]));
    }
}
