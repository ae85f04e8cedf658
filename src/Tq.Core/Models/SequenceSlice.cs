using Tq.Core.Cache;

namespace Tq.Core.Models;

/// <summary>
/// The rows of one sequence in a forward batch: <see cref="Count"/> tokens from row <see cref="Start"/>, at positions
/// <see cref="Position"/>.. of the sequence whose keys and values <see cref="Cache"/> holds.
/// </summary>
internal readonly record struct SequenceSlice(IKvCache Cache, int Position, int Start, int Count);
