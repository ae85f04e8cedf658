using Tq.Core.Quantization;
using Tq.Core.Tensors;

namespace Tq.Core.Tests.Quantization;

public sealed class BitPackingTests
{
    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        for (int b = 1; b <= 4; b++)
        {
            foreach (SimdPath p in SimdPaths.Supported)
            {
                data.Add(b, (int)p);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PackUnpack_EveryLengthPastTwoVectorWidths_RoundTrips(int bits, int path)
    {
        var random = new DeterministicRandom((ulong)bits);
        for (int n = 0; n <= 140; n++)
        {
            var codes = new byte[n];
            for (int i = 0; i < n; i++)
            {
                codes[i] = (byte)(random.NextUInt64() & ((1UL << bits) - 1));
            }

            int length = BitPacking.PackedLength(n, bits);
            Assert.Equal(((n * bits) + 7) / 8, length);
            var packed = new byte[length + 2];
            packed[^1] = packed[^2] = 0xAB; // sentinel: nothing past the packed length is written
            BitPacking.Pack(codes, bits, packed, (SimdPath)path);
            Assert.Equal(0xAB, packed[^1]);
            Assert.Equal(0xAB, packed[^2]);

            var scalar = new byte[length + 2];
            scalar[^1] = scalar[^2] = 0xAB;
            BitPacking.Pack(codes, bits, scalar, SimdPath.Scalar);
            Assert.Equal(scalar, packed);

            var back = new byte[n];
            BitPacking.Unpack(packed.AsSpan(0, length), bits, back, (SimdPath)path);
            Assert.Equal(codes, back);
        }
    }

    [Fact]
    public void Pack_ThreeBits_IsDenseLittleEndianStream()
    {
        byte[] codes = [1, 2, 3, 4, 5, 6, 7, 0];
        var packed = new byte[3];
        BitPacking.Pack(codes, 3, packed);
        uint stream = 0;
        for (int i = 0; i < codes.Length; i++)
        {
            stream |= (uint)codes[i] << (3 * i);
        }

        Assert.Equal([(byte)stream, (byte)(stream >> 8), (byte)(stream >> 16)], packed);
    }

    [Fact]
    public void Pack_BadArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BitPacking.Pack(new byte[4], 5, new byte[4]));
        Assert.Throws<ArgumentException>(() => BitPacking.Pack(new byte[16], 4, new byte[7]));
        Assert.Throws<ArgumentException>(() => BitPacking.Unpack(new byte[7], 4, new byte[16]));
    }
}
