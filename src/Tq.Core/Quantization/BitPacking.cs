using Tq.Core.Tensors;

namespace Tq.Core.Quantization;

/// <summary>
/// Dense little-endian bit packing of 1- to 4-bit codes: code i occupies bits [i·b, (i+1)·b) of the stream, so 3-bit
/// codes cross byte boundaries and nothing is wasted but the last partial byte.
/// </summary>
/// <remarks>
/// In this layout 32-bit word j of a 1/2/4-bit stream holds codes j·(32/b) … (j+1)·(32/b) − 1, which the scoring
/// kernels exploit by shifting whole words instead of unpacking.
/// </remarks>
internal static class BitPacking
{
    /// <summary>Bytes needed for <paramref name="count"/> codes of <paramref name="bits"/> bits.</summary>
    public static int PackedLength(int count, int bits) => (int)(((long)count * bits + 7) >> 3);

    // The packed length of `count` codes, after checking the bit width and that the packed span holds it.
    private static int CheckedPackedLength(int count, int bits, int packedBytes, string paramName)
    {
        CheckBits(bits);
        int length = PackedLength(count, bits);
        if (packedBytes < length)
        {
            throw new ArgumentException($"{count} {bits}-bit codes need {length} packed bytes, got {packedBytes}.", paramName);
        }

        return length;
    }

    /// <summary>Packs codes (each below 2^bits) into <paramref name="destination"/>.</summary>
    public static void Pack(ReadOnlySpan<byte> codes, int bits, Span<byte> destination, SimdPath path = SimdPath.Auto)
    {
        int length = CheckedPackedLength(codes.Length, bits, destination.Length, nameof(destination));
        bool usePext = path != SimdPath.Scalar && Bmi2.X64.IsSupported;
        ulong mask = LaneMask(bits);
        ref byte src = ref MemoryMarshal.GetReference(codes);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        int groups = codes.Length >> 3;

        // Eight codes make exactly `bits` bytes, so every group starts on a byte boundary.
        for (int g = 0; g < groups; g++)
        {
            ulong eight = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, g << 3));
            ulong packed = usePext ? Bmi2.X64.ParallelBitExtract(eight, mask) : ExtractScalar(eight, bits);
            ref byte o = ref Unsafe.Add(ref dst, g * bits);
            if ((g * bits) + 8 <= length)
            {
                // The bytes past `bits` are rewritten by the next group or belong to the tail, written below.
                Unsafe.WriteUnaligned(ref o, packed);
            }
            else
            {
                for (int k = 0; k < bits; k++)
                {
                    Unsafe.Add(ref o, k) = (byte)(packed >> (k << 3));
                }
            }
        }

        int done = groups << 3;
        if (done < codes.Length)
        {
            ulong acc = 0;
            int codeMask = (1 << bits) - 1;
            for (int i = done; i < codes.Length; i++)
            {
                acc |= (ulong)(codes[i] & codeMask) << ((i - done) * bits);
            }

            int tailBytes = length - (groups * bits);
            for (int k = 0; k < tailBytes; k++)
            {
                Unsafe.Add(ref dst, (groups * bits) + k) = (byte)(acc >> (k << 3));
            }
        }
    }

    /// <summary>Unpacks <paramref name="codes"/>.Length codes from <paramref name="packed"/>.</summary>
    public static void Unpack(ReadOnlySpan<byte> packed, int bits, Span<byte> codes, SimdPath path = SimdPath.Auto)
    {
        CheckedPackedLength(codes.Length, bits, packed.Length, nameof(packed));
        bool usePdep = path != SimdPath.Scalar && Bmi2.X64.IsSupported;
        ulong mask = LaneMask(bits);
        ref byte src = ref MemoryMarshal.GetReference(packed);
        ref byte dst = ref MemoryMarshal.GetReference(codes);
        int groups = codes.Length >> 3;
        for (int g = 0; g < groups; g++)
        {
            ref byte s = ref Unsafe.Add(ref src, g * bits);
            ulong word = 0;
            for (int k = 0; k < bits; k++)
            {
                word |= (ulong)Unsafe.Add(ref s, k) << (k << 3);
            }

            ulong eight = usePdep ? Bmi2.X64.ParallelBitDeposit(word, mask) : DepositScalar(word, bits);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, g << 3), eight);
        }

        int codeMask = (1 << bits) - 1;
        for (int i = groups << 3; i < codes.Length; i++)
        {
            int bit = i * bits;
            int value = packed[bit >> 3] >> (bit & 7);
            if ((bit & 7) + bits > 8)
            {
                value |= packed[(bit >> 3) + 1] << (8 - (bit & 7));
            }

            codes[i] = (byte)(value & codeMask);
        }
    }

    private static ulong LaneMask(int bits) => 0x0101010101010101UL * (ulong)((1 << bits) - 1);

    private static ulong ExtractScalar(ulong eight, int bits)
    {
        ulong result = 0;
        ulong codeMask = (1UL << bits) - 1;
        for (int i = 0; i < 8; i++)
        {
            result |= ((eight >> (i << 3)) & codeMask) << (i * bits);
        }

        return result;
    }

    private static ulong DepositScalar(ulong word, int bits)
    {
        ulong result = 0;
        ulong codeMask = (1UL << bits) - 1;
        for (int i = 0; i < 8; i++)
        {
            result |= ((word >> (i * bits)) & codeMask) << (i << 3);
        }

        return result;
    }

    private static void CheckBits(int bits)
    {
        if (bits is < 1 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "Packed codes must be 1 to 4 bits wide.");
        }
    }
}
