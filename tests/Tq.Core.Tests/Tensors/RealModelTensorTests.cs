using Tq.Core.Gguf;
using Tq.Core.Tensors;
using Tq.Core.Threading;
using Tq.Testing;
using Xunit.Abstractions;

namespace Tq.Core.Tests.Tensors;

/// <summary>
/// Dequantized tensors of the quantized tq-stories-5m files against the same tensors of the F32 file: the relative
/// RMS error of each tensor must stay within what its type's precision allows.
/// </summary>
public sealed class RealModelTensorTests(ITestOutputHelper output)
{
    // Relative RMS error bounds per type; measured on these files: F16 2.1e-4, Q8_0 5.4e-3, Q6_K 1.4e-2, Q4_K 7.2e-2 (docs/kernels.md).
    private static double Bound(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 5e-4,
        GgmlType.Q8_0 => 0.01,
        GgmlType.Q6_K => 0.03,
        GgmlType.Q5_K => 0.06,
        GgmlType.Q4_K => 0.1,
        _ => throw new InvalidOperationException($"No bound for {type}."),
    };

    [Theory]
    [InlineData("tq-stories-5m-f16.gguf")]
    [InlineData("tq-stories-5m-q8_0.gguf")]
    [InlineData("tq-stories-5m-q4_k_m.gguf")]
    public void Dequantize_EveryTensor_CloseToF32Model(string model)
    {
        using GgufFile reference = GgufFile.Open(TestPaths.Model("tq-stories-5m-f32.gguf"));
        using GgufFile quantized = GgufFile.Open(TestPaths.Model(model));
        var typesSeen = new HashSet<GgmlType>();
        foreach (GgufTensorInfo tensor in quantized.Tensors)
        {
            GgufTensorInfo expectedTensor = reference.GetTensor(tensor.Name);
            Assert.Equal(GgmlType.F32, expectedTensor.Type);
            Assert.Equal(tensor.Dimensions, expectedTensor.Dimensions);
            WeightMatrix w = WeightMatrix.FromTensor(quantized, tensor);
            ReadOnlySpan<float> expected = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(reference.GetTensorData(expectedTensor));
            float[] row = new float[w.Cols];
            double error = 0, norm = 0;
            for (int r = 0; r < w.Rows; r++)
            {
                MatMul.GetRow(w, r, row);
                for (int c = 0; c < w.Cols; c++)
                {
                    double e = expected[(r * w.Cols) + c];
                    error += (row[c] - e) * (row[c] - e);
                    norm += e * e;
                }
            }

            double relative = Math.Sqrt(error / norm);
            Assert.True(relative <= Bound(tensor.Type), $"{model} {tensor}: relative RMS error {relative:G4} above {Bound(tensor.Type)}");
            typesSeen.Add(tensor.Type);
            output.WriteLine($"{tensor} relative RMS error {relative:G3}");
        }

        if (model.Contains("q4_k", StringComparison.Ordinal))
        {
            Assert.Contains(GgmlType.Q4_K, typesSeen);
            Assert.Contains(GgmlType.Q6_K, typesSeen);
        }
    }

    [Theory]
    [InlineData("tq-stories-5m-f16.gguf", 2e-3)]
    [InlineData("tq-stories-5m-q8_0.gguf", 0.02)]
    [InlineData("tq-stories-5m-q4_k_m.gguf", 0.12)]
    public void Multiply_RealMatrices_CloseToF32Product(string model, double bound)
    {
        using GgufFile reference = GgufFile.Open(TestPaths.Model("tq-stories-5m-f32.gguf"));
        using GgufFile quantized = GgufFile.Open(TestPaths.Model(model));
        using var pool = new WorkerPool(2);
        foreach (string name in new[] { "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.5.ffn_up.weight", "output.weight" })
        {
            WeightMatrix w = WeightMatrix.FromTensor(quantized, quantized.GetTensor(name));
            WeightMatrix f = WeightMatrix.FromTensor(reference, reference.GetTensor(name));
            foreach (int tokens in new[] { 1, 16 })
            {
                float[] x = GgmlReference.RandomFloats(tokens * w.Cols, new Random(tokens));
                float[] y = new float[tokens * w.Rows];
                float[] yf = new float[tokens * w.Rows];
                MatMul.Multiply(w, x, y, tokens, pool);
                MatMul.Multiply(f, x, yf, tokens, pool);
                double error = 0, norm = 0;
                for (int i = 0; i < y.Length; i++)
                {
                    error += (y[i] - yf[i]) * (double)(y[i] - yf[i]);
                    norm += yf[i] * (double)yf[i];
                }

                double relative = Math.Sqrt(error / norm);
                output.WriteLine($"{name} tokens={tokens} relative error {relative:G3}");
                Assert.True(relative <= bound, $"{model} {name} tokens={tokens}: relative error {relative:G4} above {bound}");
            }
        }
    }
}
