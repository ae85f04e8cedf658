namespace Tq.Core.Tokenization;

/// <summary>
/// An open-addressing hash map from byte sequences to ints. The tokenizers look up UTF-8 (or raw byte) slices of the
/// input without materializing strings, so encoding allocates nothing per lookup.
/// </summary>
internal sealed class ByteSpanMap
{
    private byte[] _data;
    private int _dataLength;
    private readonly int[] _offsets;
    private readonly int[] _lengths;
    private readonly int[] _values;
    private readonly int[] _slots;
    private readonly int _mask;
    private int _count;

    public ByteSpanMap(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        int size = 16;
        while (size < capacity * 2)
        {
            size <<= 1;
        }

        _slots = new int[size];
        _mask = size - 1;
        _offsets = new int[Math.Max(capacity, 1)];
        _lengths = new int[Math.Max(capacity, 1)];
        _values = new int[Math.Max(capacity, 1)];
        _data = new byte[Math.Max(capacity * 8, 16)];
    }

    public int Count => _count;

    /// <summary>Adds the key unless it is present; returns false when it was already present (the first value wins).</summary>
    public bool TryAdd(ReadOnlySpan<byte> key, int value)
    {
        if (_count == _offsets.Length)
        {
            throw new InvalidOperationException("The map is full.");
        }

        int slot = FindSlot(key, out bool found);
        if (found)
        {
            return false;
        }

        if (_dataLength + key.Length > _data.Length)
        {
            Array.Resize(ref _data, Math.Max(_data.Length * 2, _dataLength + key.Length));
        }

        key.CopyTo(_data.AsSpan(_dataLength));
        _offsets[_count] = _dataLength;
        _lengths[_count] = key.Length;
        _values[_count] = value;
        _dataLength += key.Length;
        _slots[slot] = ++_count;
        return true;
    }

    /// <summary>The value for the key, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        int slot = FindSlot(key, out bool found);
        return found ? _values[_slots[slot] - 1] : -1;
    }

    private int FindSlot(ReadOnlySpan<byte> key, out bool found)
    {
        var hash = new HashCode();
        hash.AddBytes(key);
        int slot = hash.ToHashCode() & _mask;
        while (true)
        {
            int entry = _slots[slot];
            if (entry == 0)
            {
                found = false;
                return slot;
            }

            int index = entry - 1;
            if (_lengths[index] == key.Length && _data.AsSpan(_offsets[index], _lengths[index]).SequenceEqual(key))
            {
                found = true;
                return slot;
            }

            slot = (slot + 1) & _mask;
        }
    }
}
