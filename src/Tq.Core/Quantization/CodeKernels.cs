using Tq.Core.Tensors;

namespace Tq.Core.Quantization;

/// <summary>
/// The SIMD kernels of the TurboQuant quantizers. A "code" is the index of a Lloyd-Max centroid (1–4 bits) that
/// replaces one rotated coordinate; a row is its codes densely packed (see <see cref="BitPacking"/>). The kernels
/// quantize to codes, take dot products of packed rows with a prepared query, and accumulate weighted packed rows,
/// without unpacking to bytes.
/// </summary>
/// <remarks>
/// <para>
/// Tables are 16 floats with entry k = centroid[k mod 2^b]: the permute instructions only read the low 4 (512-bit) or
/// 3 (256-bit) bits of an index, so codes can be shifted into place without masking off their neighbours.
/// </para>
/// <para>
/// 1/2/4-bit codes are read as whole 32-bit words and shifted (word j of the stream holds codes j·m … j·m + m − 1,
/// m = 32/b). 512-bit: a chunk is 128 codes (16·b bytes, broadcast to fill the register, each lane pre-shifted), so
/// eight shift + permute + FMA steps cover 128 codes at every width. 256-bit: a chunk is 8 words. The query (and the
/// value accumulator) is therefore kept in a "prepared" order, see <see cref="PreparedIndex"/>. 3-bit codes straddle
/// words, so their SIMD paths gather each lane's two bytes with a byte shuffle and a variable shift, in natural order.
/// Prepared vectors are zero-padded to whole chunks; padding lanes may see bytes past the segment (the next segment or
/// row) and contribute 0 × centroid = 0. Reads never go past the end of the span: rows too close to its end are
/// copied to a zeroed buffer first, which also keeps the hot loops free of calls (and so of register spills).
/// </para>
/// </remarks>
internal static class CodeKernels
{
    private const int ZmmBytes = 64;

    // ---------------------------------------------------------------- layout of prepared vectors

    public static int Lanes(SimdPath path) => path switch
    {
        SimdPath.Vector512 => 16,
        SimdPath.Vector256 => 8,
        _ => 1,
    };

    // 1/2/4-bit codes are read as whole 32-bit words (3-bit codes straddle words and use the byte shuffle instead).
    private static bool UsesWords(int bits, SimdPath path) => path != SimdPath.Scalar && bits != 3;

    private static int ChunkCodes(int bits, SimdPath path) =>
        !UsesWords(bits, path) ? Lanes(path) : path == SimdPath.Vector512 ? 128 : 8 * (32 / bits);

    /// <summary>Position in a prepared vector of code <paramref name="index"/> (word layouts only).</summary>
    private static int PreparedIndex(int index, int bits, SimdPath path)
    {
        int perWord = 32 / bits;
        if (path == SimdPath.Vector256)
        {
            int chunk = 8 * perWord, c = index / chunk, r = index % chunk;
            return (c * chunk) + ((r % perWord) * 8) + (r / perWord);
        }

        // 512-bit: a chunk is 128 codes = 16·b bytes = 4·b words, broadcast over the 16 lanes; lane l reads word
        // l mod 4b pre-shifted by 8·b·⌊l/4b⌋ bits, so step k (shift k·b) gives every lane one code.
        int p = index % 128, j = p / perWord, within = p % perWord;
        int lane = ((within / 8) * 4 * bits) + j;
        return (index - p) + ((within % 8) * 16) + lane;
    }

    /// <summary>Floats a prepared query/accumulator needs for a segment of <paramref name="count"/> codes.</summary>
    public static int PreparedLength(int count, int bits, SimdPath path)
    {
        int chunk = ChunkCodes(bits, path);
        return (count + chunk - 1) / chunk * chunk;
    }

    /// <summary>Natural order → prepared order (zero-padded).</summary>
    public static void Arrange(ReadOnlySpan<float> natural, int bits, SimdPath path, Span<float> prepared)
    {
        int n = natural.Length;
        prepared[..PreparedLength(n, bits, path)].Clear();
        if (!UsesWords(bits, path))
        {
            natural.CopyTo(prepared);
            return;
        }

        for (int i = 0; i < n; i++)
        {
            prepared[PreparedIndex(i, bits, path)] = natural[i];
        }
    }

    /// <summary>Prepared order → natural order (drops the padding).</summary>
    public static void Unarrange(ReadOnlySpan<float> prepared, int bits, SimdPath path, Span<float> natural)
    {
        int n = natural.Length;
        if (!UsesWords(bits, path))
        {
            prepared[..n].CopyTo(natural);
            return;
        }

        for (int i = 0; i < n; i++)
        {
            natural[i] = prepared[PreparedIndex(i, bits, path)];
        }
    }

    /// <summary>The 16-entry replicated table for a codebook: entry k = values[k mod values.Length].</summary>
    public static void FillTable(ReadOnlySpan<float> values, Span<float> table16)
    {
        for (int k = 0; k < 16; k++)
        {
            table16[k] = values[k % values.Length];
        }
    }

    // ---------------------------------------------------------------- quantize

    /// <summary>16-entry boundary table for the 512-bit binary search: entry j = boundaries[j], +∞ past the end.</summary>
    public static float[] BoundaryTable(ReadOnlySpan<float> boundaries)
    {
        var table = new float[16];
        for (int j = 0; j < 16; j++)
        {
            table[j] = j < boundaries.Length ? boundaries[j] : float.PositiveInfinity;
        }

        return table;
    }

    /// <summary>
    /// codes[i] = number of sorted <paramref name="boundaries"/> below values[i] (the nearest centroid); returns
    /// Σ squares16[codes[i]] (the squared norm of the dequantized values) when <paramref name="squares16"/> is given.
    /// </summary>
    /// <param name="values">Values to quantize.</param>
    /// <param name="boundaries">Sorted decision boundaries, 2^b − 1 of them.</param>
    /// <param name="boundaryTable16">From <see cref="BoundaryTable"/>.</param>
    /// <param name="squares16">Squared reconstruction values by code (16 entries), or empty to skip the sum.</param>
    /// <param name="codes">Receives one code per value.</param>
    /// <param name="path">Kernel path.</param>
    public static float Quantize(
        ReadOnlySpan<float> values, ReadOnlySpan<float> boundaries, ReadOnlySpan<float> boundaryTable16, ReadOnlySpan<float> squares16,
        Span<byte> codes, SimdPath path)
    {
        int n = values.Length;
        int i = 0;
        float squares = 0;
        bool sum = !squares16.IsEmpty;
        ref float src = ref MemoryMarshal.GetReference(values);
        ref byte dst = ref MemoryMarshal.GetReference(codes);
        if (path == SimdPath.Vector512 && n >= 16)
        {
            // Branch-free binary search: at each level a permute fetches every lane's own boundary to compare with.
            var table = Vector512.Create(boundaryTable16);
            var squareTable = sum ? Vector512.Create(squares16) : Vector512<float>.Zero;
            var squareSum = Vector512<float>.Zero;
            int half = (boundaries.Length + 1) >> 1;
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref src, (nuint)i);
                var code = Vector512<int>.Zero;
                for (int step = half; step > 0; step >>= 1)
                {
                    var probe = code + Vector512.Create(step - 1);
                    var above = Vector512.GreaterThan(v, Avx512F.PermuteVar16x32(table, probe)).AsInt32();
                    code += above & Vector512.Create(step);
                }

                Avx512F.ConvertToVector128Byte(code).StoreUnsafe(ref dst, (nuint)i);
                if (sum)
                {
                    squareSum += Avx512F.PermuteVar16x32(squareTable, code);
                }
            }

            squares = Sum(squareSum);
        }
        else if (path == SimdPath.Vector256)
        {
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                var count = Vector256<int>.Zero;
                foreach (float b in boundaries)
                {
                    count -= Vector256.GreaterThan(v, Vector256.Create(b)).AsInt32();
                }

                var shorts = Vector256.Narrow(count, count);
                var bytes = Vector256.Narrow(shorts, shorts);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), bytes.AsUInt64().ToScalar());
            }

            if (sum)
            {
                for (int k = 0; k < i; k++)
                {
                    squares += squares16[Unsafe.Add(ref dst, k)];
                }
            }
        }

        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref src, i);
            int c = 0;
            foreach (float b in boundaries)
            {
                c += v > b ? 1 : 0;
            }

            Unsafe.Add(ref dst, i) = (byte)c;
            if (sum)
            {
                squares += squares16[c];
            }
        }

        return squares;
    }

    // ---------------------------------------------------------------- dot products of packed rows

    /// <summary>
    /// For every row r (<paramref name="destination"/>.Length rows of <paramref name="rowStride"/> bytes in
    /// <paramref name="codes"/>): destination[r] (+)= Σᵢ table[codeᵢ]·prepared[i] over the segment of
    /// <paramref name="count"/> codes at <paramref name="segmentOffset"/> in the row.
    /// </summary>
    public static void DotRows(
        ReadOnlySpan<byte> codes, int rowStride, int segmentOffset, int count, int bits,
        ReadOnlySpan<float> table16, ReadOnlySpan<float> prepared, Span<float> destination, bool accumulate, SimdPath path)
    {
        int rows = destination.Length;
        if (count == 0)
        {
            if (!accumulate)
            {
                destination.Clear();
            }

            return;
        }

        ref byte start = ref MemoryMarshal.GetReference(codes);
        ref float q = ref MemoryMarshal.GetReference(prepared);
        ref float table = ref MemoryMarshal.GetReference(table16);
        if (path == SimdPath.Vector512)
        {
            if (bits == 3)
            {
                DotRows512Bits3(ref start, codes.Length, rowStride, segmentOffset, count, ref table, ref q, destination, accumulate);
            }
            else
            {
                DotRows512Words(ref start, codes.Length, rowStride, segmentOffset, count, bits, ref table, ref q, destination, accumulate);
            }

            return;
        }

        // 256-bit word kernels read whole 32-byte chunks: rows ending too close to the span's end go through a copy.
        bool words256 = path == SimdPath.Vector256 && bits != 3;
        int safe = words256 ? SafeRows(codes.Length, rowStride, segmentOffset, PreparedLength(count, bits, path) * bits / 8, rows) : rows;
        Span<byte> padded = safe < rows ? stackalloc byte[MaxPaddedRowBytes] : default;
        for (int r = 0; r < rows; r++)
        {
            int offset = (r * rowStride) + segmentOffset;
            scoped ref byte seg = ref Unsafe.Add(ref start, offset);
            int available = codes.Length - offset;
            if (r >= safe)
            {
                seg = ref PaddedRow(ref start, codes.Length, offset, available, padded);
                available = padded.Length;
            }

            float dot = path switch
            {
                SimdPath.Vector256 when bits == 3 => Dot256Bits3(ref seg, available, count, ref table, ref q),
                SimdPath.Vector256 => Dot256Words(ref seg, count, bits, ref table, ref q),
                _ => DotScalar(ref seg, count, bits, ref table, ref q),
            };
            destination[r] = accumulate ? destination[r] + dot : dot;
        }
    }

    /// <summary>
    /// <see cref="DotRows"/> for a group of queries sharing the rows (grouped-query attention): destination[g·rows + r]
    /// (+)= Σᵢ table[code_{r,i}]·prepared[g·preparedStride + preparedOffset + i]. The 512-bit 1/2/4-bit kernel unpacks
    /// and looks up each row once for all queries.
    /// </summary>
    public static void DotRowsGroup(
        ReadOnlySpan<byte> codes, int rowStride, int segmentOffset, int count, int bits, ReadOnlySpan<float> table16,
        ReadOnlySpan<float> prepared, int preparedStride, int preparedOffset, int queries, Span<float> destination, bool accumulate, SimdPath path)
    {
        int rows = queries == 0 ? 0 : destination.Length / queries;
        int length = PreparedLength(count, bits, path);
        if (path != SimdPath.Vector512 || bits == 3 || count == 0 || count > 128 || queries == 1)
        {
            for (int g = 0; g < queries; g++)
            {
                DotRows(codes, rowStride, segmentOffset, count, bits, table16, prepared.Slice((g * preparedStride) + preparedOffset, length),
                    destination.Slice(g * rows, rows), accumulate, path);
            }

            return;
        }

        ref byte start = ref MemoryMarshal.GetReference(codes);
        ref float q = ref Unsafe.Add(ref MemoryMarshal.GetReference(prepared), preparedOffset);
        ref float table = ref MemoryMarshal.GetReference(table16);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        int safe = SafeRows(codes.Length, rowStride, segmentOffset, 16 * bits, rows);
        DotRows512Group(ref Unsafe.Add(ref start, segmentOffset), rowStride, 0, safe, bits, ref table, ref q, preparedStride, queries, ref dst, rows, accumulate);
        Span<byte> padded = safe < rows ? stackalloc byte[MaxPaddedRowBytes] : default;
        for (int r = safe; r < rows; r++)
        {
            ref byte row = ref PaddedRow(ref start, codes.Length, (r * rowStride) + segmentOffset, 16 * bits, padded);
            DotRows512Group(ref row, 0, r, 1, bits, ref table, ref q, preparedStride, queries, ref dst, rows, accumulate);
        }
    }

    // Rows [first, first + rows) of a group; `seg` points at row `first` (stride 0 for a padded single row).
    private static void DotRows512Group(
        ref byte seg, int rowStride, int first, int rows, int bits, ref float tableRef, ref float q, int queryStride, int queries,
        ref float dst, int dstStride, bool accumulate)
    {
        var table = Vector512.LoadUnsafe(ref tableRef);
        var preShift = s_preShift512[bits];
        nint stride = rowStride;
        for (int r = 0; r < rows; r++)
        {
            var v = LoadWords512(ref Unsafe.Add(ref seg, r * stride), bits, preShift);
            var t0 = Avx512F.PermuteVar16x32(table, v);
            var t1 = Avx512F.PermuteVar16x32(table, v >>> bits);
            var t2 = Avx512F.PermuteVar16x32(table, v >>> (2 * bits));
            var t3 = Avx512F.PermuteVar16x32(table, v >>> (3 * bits));
            var t4 = Avx512F.PermuteVar16x32(table, v >>> (4 * bits));
            var t5 = Avx512F.PermuteVar16x32(table, v >>> (5 * bits));
            var t6 = Avx512F.PermuteVar16x32(table, v >>> (6 * bits));
            var t7 = Avx512F.PermuteVar16x32(table, v >>> (7 * bits));
            for (int g = 0; g < queries; g++)
            {
                ref float qg = ref Unsafe.Add(ref q, g * queryStride);
                var a = t0 * Vector512.LoadUnsafe(ref qg, 0);
                var b = t1 * Vector512.LoadUnsafe(ref qg, 16);
                a = Avx512F.FusedMultiplyAdd(t2, Vector512.LoadUnsafe(ref qg, 32), a);
                b = Avx512F.FusedMultiplyAdd(t3, Vector512.LoadUnsafe(ref qg, 48), b);
                a = Avx512F.FusedMultiplyAdd(t4, Vector512.LoadUnsafe(ref qg, 64), a);
                b = Avx512F.FusedMultiplyAdd(t5, Vector512.LoadUnsafe(ref qg, 80), b);
                a = Avx512F.FusedMultiplyAdd(t6, Vector512.LoadUnsafe(ref qg, 96), a);
                b = Avx512F.FusedMultiplyAdd(t7, Vector512.LoadUnsafe(ref qg, 112), b);
                float dot = Sum(a + b);
                ref float d = ref Unsafe.Add(ref dst, (g * dstStride) + first + r);
                d = accumulate ? d + dot : dot;
            }
        }
    }

    private static float DotScalar(ref byte seg, int count, int bits, ref float table, ref float q)
    {
        float sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += Unsafe.Add(ref table, ReadCode(ref seg, i, bits)) * Unsafe.Add(ref q, i);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadCode(ref byte seg, int index, int bits)
    {
        int bit = index * bits;
        int shift = bit & 7;
        int value = Unsafe.Add(ref seg, bit >> 3) >> shift;
        if (shift + bits > 8)
        {
            value |= Unsafe.Add(ref seg, (bit >> 3) + 1) << (8 - shift);
        }

        return value & ((1 << bits) - 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong LoadBytes(ref byte seg, int offset, int available, int width)
    {
        if (offset + width <= available)
        {
            return width == 8 ? Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref seg, offset)) : Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref seg, offset));
        }

        ulong value = 0;
        for (int k = 0; k < width && offset + k < available; k++)
        {
            value |= (ulong)Unsafe.Add(ref seg, offset + k) << (k << 3);
        }

        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sum(Vector512<float> v)
    {
        var half = v.GetLower() + v.GetUpper();
        return Vector128.Sum(half.GetLower() + half.GetUpper());
    }

    /// <summary>Rows whose <paramref name="bytes"/> bytes from the segment start lie inside the span.</summary>
    private static int SafeRows(int length, int rowStride, int segmentOffset, int bytes, int rows)
    {
        int room = length - segmentOffset - bytes;
        return room < 0 ? 0 : rowStride == 0 ? rows : Math.Min(rows, (room / rowStride) + 1);
    }

    // The last rows of a span may end less than a whole chunk before the span does: copy such a row into a zeroed
    // buffer and run the same kernel on it (the zero padding contributes 0 × centroid).
    private const int MaxPaddedRowBytes = 1024;

    // The `bytes` a kernel reads from `offset` (at most what the codes still hold), copied into the zeroed `padded`: the
    // rows that end too close to the codes' end for whole-chunk vector loads.
    private static ref byte PaddedRow(ref byte start, int length, int offset, int bytes, Span<byte> padded)
    {
        padded.Clear();
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref start, offset), Math.Min(bytes, length - offset)).CopyTo(padded);
        return ref MemoryMarshal.GetReference(padded);
    }

    private static readonly Vector512<uint>[] s_preShift512 = [default, PreShift512(1), PreShift512(2), default, PreShift512(4)];

    private static Vector512<uint> PreShift512(int bits)
    {
        Span<uint> shifts = stackalloc uint[16];
        for (int l = 0; l < 16; l++)
        {
            shifts[l] = (uint)(l / (4 * bits) * 8 * bits);
        }

        return Vector512.Create<uint>(shifts);
    }

    /// <summary>One 128-code chunk (16·b bytes) broadcast over the lanes and pre-shifted (see <see cref="PreparedIndex"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> LoadWords512(ref byte chunk, int bits, Vector512<uint> preShift) => bits switch
    {
        4 => Vector512.LoadUnsafe(ref chunk).AsInt32(),
        2 => Avx512F.ShiftRightLogicalVariable(Vector512.Create(Vector256.LoadUnsafe(ref chunk)).AsUInt32(), preShift).AsInt32(),
        _ => Avx512F.ShiftRightLogicalVariable(Vector512.Create(Vector128.LoadUnsafe(ref chunk)).AsUInt32(), preShift).AsInt32(),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Words(Vector512<int> v, int bits, Vector512<float> table, ref float q)
    {
        var a = Avx512F.PermuteVar16x32(table, v) * Vector512.LoadUnsafe(ref q, 0);
        var b = Avx512F.PermuteVar16x32(table, v >>> bits) * Vector512.LoadUnsafe(ref q, 16);
        a = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (2 * bits)), Vector512.LoadUnsafe(ref q, 32), a);
        b = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (3 * bits)), Vector512.LoadUnsafe(ref q, 48), b);
        a = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (4 * bits)), Vector512.LoadUnsafe(ref q, 64), a);
        b = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (5 * bits)), Vector512.LoadUnsafe(ref q, 80), b);
        a = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (6 * bits)), Vector512.LoadUnsafe(ref q, 96), a);
        b = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (7 * bits)), Vector512.LoadUnsafe(ref q, 112), b);
        return a + b;
    }

    // 1/2/4-bit rows on 512-bit, 128 codes per chunk: eight shifts of one (broadcast) vector and eight permutes look up
    // all 128 centroids. Every head dimension up to 128 is one chunk, and then the eight query vectors stay in
    // registers across all rows.
    private static void DotRows512Words(
        ref byte start, int length, int rowStride, int segmentOffset, int count, int bits, ref float tableRef, ref float q,
        Span<float> destination, bool accumulate)
    {
        int rows = destination.Length;
        int chunks = (count + 127) / 128;
        int chunkBytes = 16 * bits;
        int safe = SafeRows(length, rowStride, segmentOffset, chunks * chunkBytes, rows);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        if (chunks == 1)
        {
            switch (bits)
            {
                case 4:
                    DotRows512Single(ref Unsafe.Add(ref start, segmentOffset), rowStride, safe, 4, ref tableRef, ref q, ref dst, accumulate);
                    break;
                case 2:
                    DotRows512Single(ref Unsafe.Add(ref start, segmentOffset), rowStride, safe, 2, ref tableRef, ref q, ref dst, accumulate);
                    break;
                default:
                    DotRows512Single(ref Unsafe.Add(ref start, segmentOffset), rowStride, safe, 1, ref tableRef, ref q, ref dst, accumulate);
                    break;
            }
        }
        else
        {
            DotRows512Multi(ref Unsafe.Add(ref start, segmentOffset), rowStride, safe, chunks, bits, ref tableRef, ref q, ref dst, accumulate);
        }

        Span<byte> padded = safe < rows ? stackalloc byte[MaxPaddedRowBytes] : default;
        for (int r = safe; r < rows; r++)
        {
            ref byte row = ref PaddedRow(ref start, length, (r * rowStride) + segmentOffset, chunks * chunkBytes, padded);
            DotRows512Multi(ref row, 0, 1, chunks, bits, ref tableRef, ref q, ref Unsafe.Add(ref dst, r), accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotRows512Single(ref byte seg, int rowStride, int rows, int bits, ref float tableRef, ref float q, ref float dst, bool accumulate)
    {
        var table = Vector512.LoadUnsafe(ref tableRef);
        var preShift = s_preShift512[bits];
        var q0 = Vector512.LoadUnsafe(ref q, 0);
        var q1 = Vector512.LoadUnsafe(ref q, 16);
        var q2 = Vector512.LoadUnsafe(ref q, 32);
        var q3 = Vector512.LoadUnsafe(ref q, 48);
        var q4 = Vector512.LoadUnsafe(ref q, 64);
        var q5 = Vector512.LoadUnsafe(ref q, 80);
        var q6 = Vector512.LoadUnsafe(ref q, 96);
        var q7 = Vector512.LoadUnsafe(ref q, 112);
        nint stride = rowStride;
        for (int r = 0; r < rows; r++)
        {
            var v = LoadWords512(ref Unsafe.Add(ref seg, r * stride), bits, preShift);
            var a = Avx512F.PermuteVar16x32(table, v) * q0;
            var b = Avx512F.PermuteVar16x32(table, v >>> bits) * q1;
            a = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (2 * bits)), q2, a);
            b = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (3 * bits)), q3, b);
            a = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (4 * bits)), q4, a);
            b = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (5 * bits)), q5, b);
            a = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (6 * bits)), q6, a);
            b = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (7 * bits)), q7, b);
            float dot = Sum(a + b);
            ref float d = ref Unsafe.Add(ref dst, r);
            d = accumulate ? d + dot : dot;
        }
    }

    private static void DotRows512Multi(ref byte seg, int rowStride, int rows, int chunks, int bits, ref float tableRef, ref float q, ref float dst, bool accumulate)
    {
        var table = Vector512.LoadUnsafe(ref tableRef);
        var preShift = s_preShift512[bits];
        int chunkBytes = 16 * bits;
        nint stride = rowStride;
        for (int r = 0; r < rows; r++)
        {
            ref byte row = ref Unsafe.Add(ref seg, r * stride);
            var acc = Vector512<float>.Zero;
            for (int c = 0; c < chunks; c++)
            {
                acc += Words(LoadWords512(ref Unsafe.Add(ref row, c * chunkBytes), bits, preShift), bits, table, ref Unsafe.Add(ref q, c * 128));
            }

            float dot = Sum(acc);
            ref float d = ref Unsafe.Add(ref dst, r);
            d = accumulate ? d + dot : dot;
        }
    }

    // Byte-shuffle lookup for b-bit codes in natural order, 16 codes (2b bytes) per step: lane i takes bytes
    // ⌊b·i/8⌋ and ⌊b·i/8⌋ + 1 of the broadcast 8-byte word and shifts right by b·i mod 8; the permute reads the low
    // 4 bits, and the replicated table makes the neighbouring code's bits irrelevant.
    private static readonly Vector512<byte>[] s_shuffle512 = [default, Shuffle512(1), Shuffle512(2), Shuffle512(3), Shuffle512(4)];
    private static readonly Vector512<uint>[] s_shift512 = [default, Shift512(1), Shift512(2), Shift512(3), Shift512(4)];

    private static Vector512<byte> Shuffle512(int bits)
    {
        Span<byte> control = stackalloc byte[64];
        for (int i = 0; i < 16; i++)
        {
            int b = (bits * i) >> 3;
            control[4 * i] = (byte)b;
            control[(4 * i) + 1] = (byte)(b + 1);
            control[(4 * i) + 2] = 0x80;
            control[(4 * i) + 3] = 0x80;
        }

        return Vector512.Create<byte>(control);
    }

    private static Vector512<uint> Shift512(int bits)
    {
        Span<uint> shifts = stackalloc uint[16];
        for (int i = 0; i < 16; i++)
        {
            shifts[i] = (uint)((bits * i) & 7);
        }

        return Vector512.Create<uint>(shifts);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Unpack16(ulong word, Vector512<byte> shuffle, Vector512<uint> shift) =>
        Avx512F.ShiftRightLogicalVariable(Avx512BW.Shuffle(Vector512.Create(word).AsByte(), shuffle).AsUInt32(), shift).AsInt32();

    // 3-bit rows on 512-bit: 16 codes (6 bytes) per step, read as one unaligned 8-byte word. Rows whose last word would
    // cross the end of the span go through a zero-padded copy, so the hot loop has no bounds branches and no calls.
    private static void DotRows512Bits3(
        ref byte start, int length, int rowStride, int segmentOffset, int count, ref float tableRef, ref float q,
        Span<float> destination, bool accumulate)
    {
        int rows = destination.Length;
        int steps = (count + 15) / 16;
        int need = (6 * (steps - 1)) + 8;
        int safe = SafeRows(length, rowStride, segmentOffset, need, rows);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        DotRows512Bits3Core(ref Unsafe.Add(ref start, segmentOffset), rowStride, safe, steps, ref tableRef, ref q, ref dst, accumulate);
        Span<byte> padded = safe < rows ? stackalloc byte[MaxPaddedRowBytes] : default;
        for (int r = safe; r < rows; r++)
        {
            ref byte row = ref PaddedRow(ref start, length, (r * rowStride) + segmentOffset, need, padded);
            DotRows512Bits3Core(ref row, 0, 1, steps, ref tableRef, ref q, ref Unsafe.Add(ref dst, r), accumulate);
        }
    }

    private static void DotRows512Bits3Core(ref byte seg, int rowStride, int rows, int steps, ref float tableRef, ref float q, ref float dst, bool accumulate)
    {
        var table = Vector512.LoadUnsafe(ref tableRef);
        var shuffle = s_shuffle512[3];
        var shift = s_shift512[3];
        nint stride = rowStride;
        for (int r = 0; r < rows; r++)
        {
            ref byte row = ref Unsafe.Add(ref seg, r * stride);
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            int s = 0;
            for (; s + 1 < steps; s += 2)
            {
                var idx0 = Unpack16(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref row, 6 * s)), shuffle, shift);
                var idx1 = Unpack16(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref row, (6 * s) + 6)), shuffle, shift);
                acc0 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, idx0), Vector512.LoadUnsafe(ref q, (nuint)(16 * s)), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, idx1), Vector512.LoadUnsafe(ref q, (nuint)((16 * s) + 16)), acc1);
            }

            if (s < steps)
            {
                var idx = Unpack16(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref row, 6 * s)), shuffle, shift);
                acc0 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, idx), Vector512.LoadUnsafe(ref q, (nuint)(16 * s)), acc0);
            }

            float dot = Sum(acc0 + acc1);
            ref float d = ref Unsafe.Add(ref dst, r);
            d = accumulate ? d + dot : dot;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Lookup256(Vector256<float> tableLow, Vector256<float> tableHigh, Vector256<int> idx, bool fourBits)
    {
        var low = Avx2.PermuteVar8x32(tableLow, idx);
        if (!fourBits)
        {
            return low;
        }

        // Bit 3 of the index moved to the sign bit selects the upper half of the 16-entry table.
        var high = Avx2.PermuteVar8x32(tableHigh, idx);
        return Avx.BlendVariable(low, high, Avx2.ShiftLeftLogical(idx, 28).AsSingle());
    }

    private static float Dot256Words(ref byte seg, int count, int bits, ref float tableRef, ref float q)
    {
        var tableLow = Vector256.LoadUnsafe(ref tableRef);
        var tableHigh = Vector256.LoadUnsafe(ref tableRef, 8);
        bool four = bits == 4;
        int perWord = 32 / bits;
        int chunkCodes = 8 * perWord;
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        for (int c = 0, offset = 0; c * chunkCodes < count; c++, offset += 32)
        {
            var v = Vector256.LoadUnsafe(ref Unsafe.Add(ref seg, offset)).AsInt32();
            ref float qc = ref Unsafe.Add(ref q, c * chunkCodes);
            for (int k = 0; k < perWord; k += 2)
            {
                acc0 = Fma.MultiplyAdd(Lookup256(tableLow, tableHigh, v >>> (k * bits), four), Vector256.LoadUnsafe(ref qc, (nuint)(k * 8)), acc0);
                acc1 = Fma.MultiplyAdd(Lookup256(tableLow, tableHigh, v >>> ((k + 1) * bits), four), Vector256.LoadUnsafe(ref qc, (nuint)((k + 1) * 8)), acc1);
            }
        }

        return Vector256.Sum(acc0 + acc1);
    }

    private static readonly Vector256<byte> s_shuffle3x256 = Vector256.Create(
        (byte)0, 1, 0x80, 0x80, 0, 1, 0x80, 0x80, 0, 1, 0x80, 0x80, 1, 2, 0x80, 0x80,
        1, 2, 0x80, 0x80, 1, 2, 0x80, 0x80, 2, 3, 0x80, 0x80, 2, 3, 0x80, 0x80);

    private static readonly Vector256<uint> s_shift3x256 = Vector256.Create(0u, 3, 6, 1, 4, 7, 2, 5);

    private static float Dot256Bits3(ref byte seg, int available, int count, ref float tableRef, ref float q)
    {
        var table = Vector256.LoadUnsafe(ref tableRef);
        var shuffle = s_shuffle3x256;
        var shift = s_shift3x256;
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int step = 0;
        for (int i = 0; i < count; i += 8, step++)
        {
            uint word = (uint)LoadBytes(ref seg, step * 3, available, 4);
            var idx = Avx2.ShiftRightLogicalVariable(Avx2.Shuffle(Vector256.Create(word).AsByte(), shuffle).AsUInt32(), shift);
            var term = Avx2.PermuteVar8x32(table, idx.AsInt32());
            if ((step & 1) == 0)
            {
                acc0 = Fma.MultiplyAdd(term, Vector256.LoadUnsafe(ref q, (nuint)i), acc0);
            }
            else
            {
                acc1 = Fma.MultiplyAdd(term, Vector256.LoadUnsafe(ref q, (nuint)i), acc1);
            }
        }

        return Vector256.Sum(acc0 + acc1);
    }

    // ---------------------------------------------------------------- weighted accumulation of packed rows

    /// <summary>
    /// accumulator[i] += Σ_r weights[r]·table[code_{r,i}] over <paramref name="weights"/>.Length rows, for the segment
    /// of <paramref name="count"/> codes at <paramref name="segmentOffset"/>; the accumulator is in prepared order.
    /// </summary>
    public static void AccumulateRows(
        ReadOnlySpan<byte> codes, int rowStride, int segmentOffset, int count, int bits,
        ReadOnlySpan<float> table16, ReadOnlySpan<float> weights, Span<float> accumulator, SimdPath path)
    {
        ref byte start = ref MemoryMarshal.GetReference(codes);
        ref float acc = ref MemoryMarshal.GetReference(accumulator);
        ref float table = ref MemoryMarshal.GetReference(table16);
        ref float w = ref MemoryMarshal.GetReference(weights);
        int rows = weights.Length;
        switch (path)
        {
            case SimdPath.Vector512 when bits != 3:
                Accumulate512Words(ref start, codes.Length, rowStride, segmentOffset, rows, count, bits, ref table, ref w, ref acc);
                break;
            case SimdPath.Vector256 when bits != 3:
            {
                int need = PreparedLength(count, bits, path) * bits / 8;
                int safe = SafeRows(codes.Length, rowStride, segmentOffset, need, rows);
                Accumulate256Words(ref Unsafe.Add(ref start, segmentOffset), rowStride, safe, count, bits, ref table, ref w, ref acc);
                Span<byte> padded = safe < rows ? stackalloc byte[MaxPaddedRowBytes] : default;
                for (int r = safe; r < rows; r++)
                {
                    ref byte row = ref PaddedRow(ref start, codes.Length, (r * rowStride) + segmentOffset, need, padded);
                    Accumulate256Words(ref row, 0, 1, count, bits, ref table, ref Unsafe.Add(ref w, r), ref acc);
                }

                break;
            }

            case SimdPath.Vector512:
                Accumulate512Shuffle(ref start, codes.Length, rowStride, segmentOffset, rows, count, bits, ref table, ref w, ref acc);
                break;
            case SimdPath.Vector256:
                Accumulate256Bits3(ref start, codes.Length, rowStride, segmentOffset, rows, count, ref table, ref w, ref acc);
                break;
            default:
                for (int r = 0; r < rows; r++)
                {
                    ref byte seg = ref Unsafe.Add(ref start, (r * rowStride) + segmentOffset);
                    float wr = Unsafe.Add(ref w, r);
                    for (int i = 0; i < count; i++)
                    {
                        Unsafe.Add(ref acc, i) += wr * Unsafe.Add(ref table, ReadCode(ref seg, i, bits));
                    }
                }

                break;
        }
    }

    // Chunk-outer, rows-inner: eight accumulator registers stay live across all rows.
    private static void Accumulate512Words(
        ref byte start, int length, int rowStride, int segmentOffset, int rows, int count, int bits, ref float tableRef, ref float w, ref float acc)
    {
        int chunks = (count + 127) / 128;
        int chunkBytes = 16 * bits;
        int safe = SafeRows(length, rowStride, segmentOffset, chunks * chunkBytes, rows);
        switch (bits)
        {
            case 4:
                Accumulate512Chunks(ref Unsafe.Add(ref start, segmentOffset), rowStride, safe, chunks, 4, ref tableRef, ref w, ref acc);
                break;
            case 2:
                Accumulate512Chunks(ref Unsafe.Add(ref start, segmentOffset), rowStride, safe, chunks, 2, ref tableRef, ref w, ref acc);
                break;
            default:
                Accumulate512Chunks(ref Unsafe.Add(ref start, segmentOffset), rowStride, safe, chunks, 1, ref tableRef, ref w, ref acc);
                break;
        }

        Span<byte> padded = safe < rows ? stackalloc byte[MaxPaddedRowBytes] : default;
        for (int r = safe; r < rows; r++)
        {
            ref byte row = ref PaddedRow(ref start, length, (r * rowStride) + segmentOffset, chunks * chunkBytes, padded);
            Accumulate512Chunks(ref row, 0, 1, chunks, bits, ref tableRef, ref Unsafe.Add(ref w, r), ref acc);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate512Chunks(ref byte seg, int rowStride, int rows, int chunks, int bits, ref float tableRef, ref float w, ref float acc)
    {
        var table = Vector512.LoadUnsafe(ref tableRef);
        var preShift = s_preShift512[bits];
        int chunkBytes = 16 * bits;
        nint stride = rowStride;
        for (int c = 0; c < chunks; c++)
        {
            ref float a = ref Unsafe.Add(ref acc, c * 128);
            var a0 = Vector512.LoadUnsafe(ref a, 0);
            var a1 = Vector512.LoadUnsafe(ref a, 16);
            var a2 = Vector512.LoadUnsafe(ref a, 32);
            var a3 = Vector512.LoadUnsafe(ref a, 48);
            var a4 = Vector512.LoadUnsafe(ref a, 64);
            var a5 = Vector512.LoadUnsafe(ref a, 80);
            var a6 = Vector512.LoadUnsafe(ref a, 96);
            var a7 = Vector512.LoadUnsafe(ref a, 112);
            ref byte chunk = ref Unsafe.Add(ref seg, c * chunkBytes);
            for (int r = 0; r < rows; r++)
            {
                var v = LoadWords512(ref Unsafe.Add(ref chunk, r * stride), bits, preShift);
                var wr = Vector512.Create(Unsafe.Add(ref w, r));
                a0 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v), wr, a0);
                a1 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> bits), wr, a1);
                a2 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (2 * bits)), wr, a2);
                a3 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (3 * bits)), wr, a3);
                a4 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (4 * bits)), wr, a4);
                a5 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (5 * bits)), wr, a5);
                a6 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (6 * bits)), wr, a6);
                a7 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32(table, v >>> (7 * bits)), wr, a7);
            }

            a0.StoreUnsafe(ref a, 0);
            a1.StoreUnsafe(ref a, 16);
            a2.StoreUnsafe(ref a, 32);
            a3.StoreUnsafe(ref a, 48);
            a4.StoreUnsafe(ref a, 64);
            a5.StoreUnsafe(ref a, 80);
            a6.StoreUnsafe(ref a, 96);
            a7.StoreUnsafe(ref a, 112);
        }
    }

    private static void Accumulate256Words(ref byte seg, int rowStride, int rows, int count, int bits, ref float tableRef, ref float w, ref float acc)
    {
        var tableLow = Vector256.LoadUnsafe(ref tableRef);
        var tableHigh = Vector256.LoadUnsafe(ref tableRef, 8);
        bool four = bits == 4;
        int perWord = 32 / bits;
        int chunkCodes = 8 * perWord;
        for (int c = 0, offset = 0; c * chunkCodes < count; c++, offset += 32)
        {
            for (int pass = 0; pass < perWord; pass += 4)
            {
                ref float a = ref Unsafe.Add(ref acc, (c * chunkCodes) + (pass * 8));
                var a0 = Vector256.LoadUnsafe(ref a, 0);
                var a1 = Vector256.LoadUnsafe(ref a, 8);
                var a2 = Vector256.LoadUnsafe(ref a, 16);
                var a3 = Vector256.LoadUnsafe(ref a, 24);
                int s = pass * bits;
                for (int r = 0; r < rows; r++)
                {
                    var v = Vector256.LoadUnsafe(ref Unsafe.Add(ref seg, (r * rowStride) + offset)).AsInt32() >>> s;
                    var wr = Vector256.Create(Unsafe.Add(ref w, r));
                    a0 = Fma.MultiplyAdd(Lookup256(tableLow, tableHigh, v, four), wr, a0);
                    a1 = Fma.MultiplyAdd(Lookup256(tableLow, tableHigh, v >>> bits, four), wr, a1);
                    a2 = Fma.MultiplyAdd(Lookup256(tableLow, tableHigh, v >>> (2 * bits), four), wr, a2);
                    a3 = Fma.MultiplyAdd(Lookup256(tableLow, tableHigh, v >>> (3 * bits), four), wr, a3);
                }

                a0.StoreUnsafe(ref a, 0);
                a1.StoreUnsafe(ref a, 8);
                a2.StoreUnsafe(ref a, 16);
                a3.StoreUnsafe(ref a, 24);
            }
        }
    }

    private static void Accumulate512Shuffle(
        ref byte start, int length, int rowStride, int segmentOffset, int rows, int count, int bits, ref float tableRef, ref float w, ref float acc)
    {
        var table = Vector512.LoadUnsafe(ref tableRef);
        var shuffle = s_shuffle512[bits];
        var shift = s_shift512[bits];
        int stepBytes = 2 * bits;
        int r = 0;

        // Two rows per pass halve the accumulator loads and stores.
        for (; r + 1 < rows; r += 2)
        {
            int offset0 = (r * rowStride) + segmentOffset;
            int offset1 = offset0 + rowStride;
            ref byte seg0 = ref Unsafe.Add(ref start, offset0);
            ref byte seg1 = ref Unsafe.Add(ref start, offset1);
            var w0 = Vector512.Create(Unsafe.Add(ref w, r));
            var w1 = Vector512.Create(Unsafe.Add(ref w, r + 1));
            for (int i = 0, o = 0; i < count; i += 16, o += stepBytes)
            {
                var t0 = Avx512F.PermuteVar16x32(table, Unpack16(LoadBytes(ref seg0, o, length - offset0, 8), shuffle, shift));
                var t1 = Avx512F.PermuteVar16x32(table, Unpack16(LoadBytes(ref seg1, o, length - offset1, 8), shuffle, shift));
                ref float a = ref Unsafe.Add(ref acc, i);
                Avx512F.FusedMultiplyAdd(t1, w1, Avx512F.FusedMultiplyAdd(t0, w0, Vector512.LoadUnsafe(ref a))).StoreUnsafe(ref a);
            }
        }

        for (; r < rows; r++)
        {
            int rowOffset = (r * rowStride) + segmentOffset;
            ref byte seg = ref Unsafe.Add(ref start, rowOffset);
            var wr = Vector512.Create(Unsafe.Add(ref w, r));
            for (int i = 0, o = 0; i < count; i += 16, o += stepBytes)
            {
                var t = Avx512F.PermuteVar16x32(table, Unpack16(LoadBytes(ref seg, o, length - rowOffset, 8), shuffle, shift));
                ref float a = ref Unsafe.Add(ref acc, i);
                Avx512F.FusedMultiplyAdd(t, wr, Vector512.LoadUnsafe(ref a)).StoreUnsafe(ref a);
            }
        }
    }

    private static void Accumulate256Bits3(
        ref byte start, int length, int rowStride, int segmentOffset, int rows, int count, ref float tableRef, ref float w, ref float acc)
    {
        var table = Vector256.LoadUnsafe(ref tableRef);
        for (int r = 0; r < rows; r++)
        {
            int rowOffset = (r * rowStride) + segmentOffset;
            ref byte seg = ref Unsafe.Add(ref start, rowOffset);
            int available = length - rowOffset;
            var wr = Vector256.Create(Unsafe.Add(ref w, r));
            int step = 0;
            for (int i = 0; i < count; i += 8, step++)
            {
                uint word = (uint)LoadBytes(ref seg, step * 3, available, 4);
                var idx = Avx2.ShiftRightLogicalVariable(Avx2.Shuffle(Vector256.Create(word).AsByte(), s_shuffle3x256).AsUInt32(), s_shift3x256);
                ref float a = ref Unsafe.Add(ref acc, i);
                Fma.MultiplyAdd(Avx2.PermuteVar8x32(table, idx.AsInt32()), wr, Vector256.LoadUnsafe(ref a)).StoreUnsafe(ref a);
            }
        }
    }
}
