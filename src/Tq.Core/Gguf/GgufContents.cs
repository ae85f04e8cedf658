namespace Tq.Core.Gguf;

/// <summary>What <see cref="GgufParser"/> reads from a file's header: everything but the tensor data.</summary>
internal sealed record GgufContents(int Version, GgufMetadata Metadata, IReadOnlyList<GgufTensorInfo> Tensors, int Alignment, long DataOffset);
