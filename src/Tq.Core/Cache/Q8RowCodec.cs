using System.Buffers.Binary;
using System.Numerics.Tensors;

namespace Tq.Core.Cache;

/// <summary>
/// Q8_0 rows as ggml stores them: blocks of 32 values (or the whole row when it is shorter), each an FP16 scale
/// d = max|x|/127 followed by the signed bytes round(x/d). No rotation, so queries and accumulators are natural rows.
/// </summary>
internal sealed class Q8RowCodec : KvRowCodec
{
    private readonly int _block;

    public Q8RowCodec(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        _block = Math.Min(32, dimension);
        if (dimension % _block != 0)
        {
            throw new ArgumentException($"Q8_0 rows need a dimension that is a multiple of 32 (or at most 32); {dimension} given.", nameof(dimension));
        }

        Dimension = dimension;
        CodeBytes = dimension / _block * (_block + sizeof(ushort));
    }

    public override int Dimension { get; }

    public override int CodeBytes { get; }

    public override int NormsPerRow => 0;

    public override int PreparedLength => Dimension;

    public override string Name => "Q8_0";

    public override void Encode(ReadOnlySpan<float> rows, Span<byte> codes, Span<Half> norms, Span<Half> residualNorms)
    {
        int count = codes.Length / CodeBytes;
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<float> x = rows.Slice(r * Dimension, Dimension);
            Span<byte> row = codes.Slice(r * CodeBytes, CodeBytes);
            for (int b = 0; b < Dimension / _block; b++)
            {
                ReadOnlySpan<float> xb = x.Slice(b * _block, _block);
                Span<byte> rb = row.Slice(b * (_block + 2), _block + 2);
                float amax = TensorPrimitives.MaxMagnitude(xb);
                if (!float.IsFinite(amax))
                {
                    throw new ArgumentException($"Row {r} holds a NaN or infinite value.", nameof(rows));
                }

                float d = amax / 127f;
                Half dh = (Half)d;
                BinaryPrimitives.WriteUInt16LittleEndian(rb, BitConverter.HalfToUInt16Bits(dh));
                float id = d != 0 ? 1f / d : 0f;
                for (int i = 0; i < _block; i++)
                {
                    rb[2 + i] = (byte)(sbyte)MathF.Round(xb[i] * id);
                }
            }
        }
    }

    public override void PrepareQuery(ReadOnlySpan<float> query, Span<float> prepared) => query[..Dimension].CopyTo(prepared);

    public override void Score(ReadOnlySpan<float> prepared, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, ReadOnlySpan<Half> residualNorms, Span<float> scores)
    {
        Span<float> values = stackalloc float[_block];
        int blocks = Dimension / _block;
        for (int r = 0; r < scores.Length; r++)
        {
            ReadOnlySpan<byte> row = codes.Slice(r * CodeBytes, CodeBytes);
            float sum = 0;
            for (int b = 0; b < blocks; b++)
            {
                ReadOnlySpan<byte> rb = row.Slice(b * (_block + 2), _block + 2);
                float d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(rb));
                TensorPrimitives.ConvertChecked<sbyte, float>(MemoryMarshal.Cast<byte, sbyte>(rb[2..]), values);
                sum += d * TensorPrimitives.Dot(values, prepared.Slice(b * _block, _block));
            }

            scores[r] = sum;
        }
    }

    public override void Accumulate(ReadOnlySpan<float> weights, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, Span<float> accumulator)
    {
        Span<float> values = stackalloc float[_block];
        int blocks = Dimension / _block;
        for (int r = 0; r < weights.Length; r++)
        {
            ReadOnlySpan<byte> row = codes.Slice(r * CodeBytes, CodeBytes);
            for (int b = 0; b < blocks; b++)
            {
                ReadOnlySpan<byte> rb = row.Slice(b * (_block + 2), _block + 2);
                float d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(rb));
                TensorPrimitives.ConvertChecked<sbyte, float>(MemoryMarshal.Cast<byte, sbyte>(rb[2..]), values);
                Span<float> acc = accumulator.Slice(b * _block, _block);
                TensorPrimitives.MultiplyAdd(values, d * weights[r], acc, acc);
            }
        }
    }

    public override void Finish(ReadOnlySpan<float> accumulator, Span<float> output) => accumulator[..Dimension].CopyTo(output);
}
