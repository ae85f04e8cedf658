using Tq.Core.Gguf;
using Tq.Core.Tensors;

namespace Tq.Core.Models;

/// <summary>
/// Takes a model's tensors out of a GGUF file by name and shape, recording each one taken, so that after loading
/// <see cref="EnsureAllUsed"/> refuses a file holding a tensor the architecture does not use (a tensor nobody reads
/// would silently change nothing the model was trained to compute).
/// </summary>
internal sealed unsafe class TensorLoader
{
    private readonly GgufFile _file;
    private readonly string _architecture;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>Creates a loader over <paramref name="file"/> for <paramref name="architecture"/> (named in errors).</summary>
    public TensorLoader(GgufFile file, string architecture)
    {
        _file = file;
        _architecture = architecture;
    }

    /// <summary>Whether the file holds <paramref name="name"/>.</summary>
    public bool Has(string name) => _file.TryGetTensor(name, out _);

    /// <summary>The matrix <paramref name="name"/> of <paramref name="rows"/> rows of <paramref name="cols"/> values.</summary>
    /// <exception cref="InvalidDataException">The tensor is missing or has another shape.</exception>
    /// <exception cref="NotSupportedException">The kernels do not support its type.</exception>
    public WeightMatrix Matrix(string name, int rows, int cols)
    {
        GgufTensorInfo tensor = Tensor(name);
        if (tensor.Dimensions.Count is < 1 or > 2 || tensor.Columns != cols || tensor.Rows != rows)
        {
            throw new InvalidDataException($"Tensor '{name}' has shape [{string.Join(", ", tensor.Dimensions)}]; [{cols}, {rows}] was expected.");
        }

        return View(tensor, rows, cols, 0);
    }

    /// <summary>The matrix <paramref name="name"/> if the file holds it, else null.</summary>
    public WeightMatrix? OptionalMatrix(string name, int rows, int cols) => Has(name) ? Matrix(name, rows, cols) : null;

    /// <summary>The vector <paramref name="name"/> of <paramref name="length"/> values, converted to floats.</summary>
    public float[] Vector(string name, int length)
    {
        WeightMatrix m = Matrix(name, 1, length);
        float[] values = new float[length];
        MatMul.GetRow(m, 0, values);
        return values;
    }

    /// <summary>The vector <paramref name="name"/> if the file holds it, else null.</summary>
    public float[]? OptionalVector(string name, int length) => Has(name) ? Vector(name, length) : null;

    /// <summary>
    /// The <paramref name="count"/> expert matrices stacked in the 3-D tensor <paramref name="name"/>
    /// (ggml [cols, rows, experts]): one view per expert, so a token reads only its experts' rows.
    /// </summary>
    public WeightMatrix[] Experts(string name, int count, int rows, int cols)
    {
        GgufTensorInfo tensor = Tensor(name);
        IReadOnlyList<long> d = tensor.Dimensions;
        if (d.Count != 3 || d[0] != cols || d[1] != rows || d[2] != count)
        {
            throw new InvalidDataException($"Tensor '{name}' has shape [{string.Join(", ", d)}]; [{cols}, {rows}, {count}] was expected.");
        }

        var experts = new WeightMatrix[count];
        for (int e = 0; e < count; e++)
        {
            experts[e] = View(tensor, rows, cols, e);
        }

        return experts;
    }

    /// <summary>Refuses the file if it holds a tensor nothing took.</summary>
    /// <exception cref="NotSupportedException">The first unused tensor, named.</exception>
    public void EnsureAllUsed()
    {
        foreach (GgufTensorInfo tensor in _file.Tensors)
        {
            if (!_used.Contains(tensor.Name))
            {
                throw new NotSupportedException($"Model '{Path.GetFileName(_file.Path)}' ({_architecture}) holds tensor '{tensor.Name}', which the {_architecture} definition does not use; refusing rather than ignoring it.");
            }
        }
    }

    private WeightMatrix View(GgufTensorInfo tensor, int rows, int cols, int index)
    {
        if (!Dequantizer.IsSupported(tensor.Type))
        {
            throw new NotSupportedException($"Tensor '{tensor.Name}' has type {tensor.Type}, which the kernels do not support.");
        }

        long bytes = GgmlTypeInfo.RowSize(tensor.Type, cols) * rows;
        byte* data = _file.GetTensorPointer(tensor) + (bytes * index);
        return new WeightMatrix(tensor.Type, rows, cols, data, bytes);
    }

    private GgufTensorInfo Tensor(string name)
    {
        if (!_file.TryGetTensor(name, out GgufTensorInfo? tensor))
        {
            throw new InvalidDataException($"Model '{_file.Path}' ({_architecture}) has no tensor '{name}'.");
        }

        _used.Add(name);
        return tensor;
    }
}
