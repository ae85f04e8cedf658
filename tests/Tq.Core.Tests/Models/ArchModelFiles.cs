using Tq.Core.Gguf;
using Tq.Testing;

namespace Tq.Core.Tests.Models;

/// <summary>Copies of the synthetic architecture models of <c>shared/models/arch</c> with one thing changed.</summary>
internal static class ArchModelFiles
{
    /// <summary>
    /// Writes <c>arch/<paramref name="model"/></c> to a new file in <paramref name="directory"/> with its metadata (one value
    /// optionally replaced, keys optionally renamed or dropped by <paramref name="renameKey"/> returning null) and the
    /// tensors <paramref name="keepTensor"/> keeps, plus what <paramref name="add"/> adds; returns the path.
    /// </summary>
    public static string Rewrite(string directory, string model, Action<GgufBuilder>? add = null, (string Key, object Value)? replace = null,
        Func<string, string?>? renameKey = null, Func<string, bool>? keepTensor = null)
    {
        using GgufFile source = GgufFile.Open(TestPaths.Model(Path.Combine("arch", model)));
        var builder = new GgufBuilder();
        foreach (KeyValuePair<string, GgufValue> entry in source.Metadata)
        {
            GgufValue v = entry.Value;
            string? key = renameKey is null ? entry.Key : renameKey(entry.Key);
            if (key is null)
            {
                continue;
            }

            object value = replace is { } r && r.Key == entry.Key ? r.Value : v.Value;
            builder.Add(key, v.Type, value, v.IsArray ? v.ElementType : GgufValueType.UInt8);
        }

        foreach (GgufTensorInfo tensor in source.Tensors.Where(t => keepTensor?.Invoke(t.Name) ?? true))
        {
            builder.AddTensor(tensor.Name, tensor.Type, [.. tensor.Dimensions], source.GetTensorData(tensor).ToArray());
        }

        add?.Invoke(builder);
        string path = Path.Combine(directory, Guid.NewGuid().ToString("N") + ".gguf");
        builder.WriteTo(path);
        return path;
    }
}
