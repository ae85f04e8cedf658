using System.Buffers;
using System.Text;
using Tq.Core.Gguf;

namespace Tq.Core.Tokenization;

/// <summary>
/// A GGUF model's tokenizer, reproducing llama.cpp's <c>llama_tokenize</c> / <c>llama_detokenize</c> /
/// <c>llama_token_to_piece</c> exactly for SentencePiece (<c>llama</c>) and GPT-2 byte-level BPE (<c>gpt2</c>) vocabularies.
/// Immutable and thread-safe once built.
/// </summary>
public sealed class Tokenizer
{
    private const char SpmSpace = '\u2581';

    private static readonly string[] s_eotTexts =
        ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"];

    private static readonly string[] s_eogTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>",
        "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ];

    private static readonly string[] s_fimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
    private static readonly string[] s_fimRepTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
    private static readonly string[] s_fimSepTexts = ["<|file_sep|>"];

    private readonly string[] _texts;
    private readonly TokenAttributes[] _attributes;
    private readonly byte[][] _pieces;
    private readonly Dictionary<string, int> _ids;
    private readonly int[] _specialTokens;
    private readonly bool[] _endOfGeneration;
    private readonly SpmEncoder? _spm;
    private readonly BpeEncoder? _bpe;
    private readonly PreTokenizer? _preTokenizer;
    private readonly bool _cleanSpaces;
    private readonly bool _escapeWhitespace;

    private Tokenizer(GgufMetadata metadata)
    {
        string model = metadata.GetStringOrDefault("tokenizer.ggml.model")
            ?? throw new NotSupportedException("The model has no tokenizer (tokenizer.ggml.model is missing).");
        Kind = model switch
        {
            "llama" => TokenizerKind.SentencePiece,
            "gpt2" or "gemma4" => TokenizerKind.BytePairEncoding,
            _ => throw new NotSupportedException($"The tokenizer model '{model}' (tokenizer.ggml.model) is not supported; supported: 'llama' (SentencePiece), 'gpt2' (byte-level BPE) and 'gemma4' (SentencePiece-style BPE)."),
        };

        if (!metadata.TryGetValue("tokenizer.ggml.tokens", out GgufValue? tokensValue))
        {
            throw new InvalidDataException("The vocabulary (tokenizer.ggml.tokens) is missing.");
        }

        IReadOnlyList<string> tokens = tokensValue.AsStringArray();
        int n = tokens.Count;
        float[] scores = metadata.TryGetValue("tokenizer.ggml.scores", out GgufValue? scoresValue) ? scoresValue.AsSingleArray() : new float[n];
        int[]? types = metadata.TryGetValue("tokenizer.ggml.token_type", out GgufValue? typesValue) ? typesValue.AsInt32Array() : null;
        if (scores.Length < n || (types is not null && types.Length < n))
        {
            throw new InvalidDataException($"tokenizer.ggml.scores or token_type has fewer entries than the {n} tokens.");
        }

        _texts = new string[n];
        _attributes = new TokenAttributes[n];
        _ids = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            string text = tokens[i].Length == 0 ? $"[EMPTY_{i}]" : tokens[i];
            if (!_ids.TryAdd(text, i))
            {
                throw new InvalidDataException($"Duplicate token in vocabulary: '{text}' has ids {_ids[text]} and {i}.");
            }

            _texts[i] = text;
            _attributes[i] = types is null ? TokenAttributes.Normal : types[i] switch
            {
                1 => TokenAttributes.Normal,
                2 => TokenAttributes.Unknown,
                3 => TokenAttributes.Control,
                4 => TokenAttributes.UserDefined,
                5 => TokenAttributes.Unused,
                6 => TokenAttributes.Byte,
                _ => TokenAttributes.Undefined,
            };
        }

        PreTokenizerName = metadata.GetStringOrDefault("tokenizer.ggml.pre");
        int bos, eos, unk;
        bool addBos;
        if (Kind == TokenizerKind.SentencePiece)
        {
            (bos, eos, unk) = (1, 2, 0);
            addBos = true;
            AddSpacePrefix = true;
            _cleanSpaces = false;
            _spm = new SpmEncoder(BuildUtf8Map(), scores, BuildByteTokens());
        }
        else
        {
            // Gemma 4 ('gemma4' model, or a 'gpt2' model with a Gemma-style pre) is BPE over SentencePiece-style text:
            // spaces escaped to '▁', raw UTF-8 symbols, <0xXX> byte fallback, no GPT-2 byte mapping.
            if (model == "gemma4")
            {
                PreTokenizerName = "gemma4";
            }

            _escapeWhitespace = PreTokenizerName is "gemma4" or "granite-embed-multi-311m";
            (bos, eos, unk) = model == "gemma4" ? (-1, -1, -1) : (11, 11, -1);
            _preTokenizer = PreTokenizer.ForName(PreTokenizerName, out bool ignoreMerges, out _cleanSpaces, out bool? preAddBos);
            addBos = preAddBos ?? false;
            _bpe = _escapeWhitespace
                ? new BpeEncoder(BuildUtf8Map(), BuildMerges(metadata, rawUtf8: true), ignoreMerges, BuildByteTokens(), newlineWords: PreTokenizerName == "gemma4")
                : new BpeEncoder(BuildRawByteMap(), BuildMerges(metadata, rawUtf8: false), ignoreMerges);
        }

        AddSpacePrefix = metadata.GetBooleanOrDefault("tokenizer.ggml.add_space_prefix", AddSpacePrefix);
        BosId = ReadId(metadata, "tokenizer.ggml.bos_token_id", bos);
        EosId = ReadId(metadata, "tokenizer.ggml.eos_token_id", eos);
        EotId = ReadId(metadata, "tokenizer.ggml.eot_token_id", -1);
        EomId = ReadId(metadata, "tokenizer.ggml.eom_token_id", -1);
        UnknownId = ReadId(metadata, "tokenizer.ggml.unknown_token_id", unk);
        PaddingId = ReadId(metadata, "tokenizer.ggml.padding_token_id", -1);
        int fimPad = ReadId(metadata, "tokenizer.ggml.fim_pad_token_id", -1);
        int fimRep = ReadId(metadata, "tokenizer.ggml.fim_rep_token_id", -1);
        int fimSep = ReadId(metadata, "tokenizer.ggml.fim_sep_token_id", -1);
        AddBos = metadata.GetBooleanOrDefault("tokenizer.ggml.add_bos_token", addBos) || PreTokenizerName == "gemma4";
        AddEos = metadata.GetBooleanOrDefault("tokenizer.ggml.add_eos_token", false);
        if ((AddBos && BosId < 0) || (AddEos && EosId < 0))
        {
            throw new InvalidDataException("The vocabulary asks to add a BOS/EOS token but has no valid BOS/EOS id.");
        }

        // llama.cpp finds EOT/EOM/FIM tokens by their text when the metadata does not name them, and makes them control
        // tokens. (It takes the first match in hash order; the lowest id is taken here. Both end up end-of-generation.)
        EotId = EotId >= 0 ? EotId : FindAndMarkControl(s_eotTexts);
        EomId = EomId >= 0 ? EomId : FindAndMarkControl(["<|eom_id|>"]);
        fimPad = fimPad >= 0 ? fimPad : FindAndMarkControl(s_fimPadTexts);
        fimRep = fimRep >= 0 ? fimRep : FindAndMarkControl(s_fimRepTexts);
        fimSep = fimSep >= 0 ? fimSep : FindAndMarkControl(s_fimSepTexts);

        _endOfGeneration = new bool[n];
        foreach (int id in (ReadOnlySpan<int>)[fimPad, fimRep, fimSep, EosId, EotId, EomId])
        {
            if (id >= 0)
            {
                _endOfGeneration[id] = true;
            }
        }

        foreach (string text in s_eogTexts)
        {
            if (_ids.TryGetValue(text, out int id))
            {
                _endOfGeneration[id] = true;
                _attributes[id] |= TokenAttributes.Control;
            }
        }

        ApplyHarmonyAndGemmaWorkarounds();

        _specialTokens = [.. Enumerable.Range(0, n)
            .Where(id => (_attributes[id] & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0)
            .OrderByDescending(id => Encoding.UTF8.GetByteCount(_texts[id]))
            .ThenBy(id => id)];

        _pieces = new byte[n][];
        for (int id = 0; id < n; id++)
        {
            _pieces[id] = BuildPiece(id);
        }

        // Per-model attribute fixes llama.cpp applies after building its caches.
        string name = (metadata.GetStringOrDefault("general.name") ?? string.Empty).ToLowerInvariant();
        if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            foreach (int id in _specialTokens)
            {
                _attributes[id] |= TokenAttributes.RStrip;
            }

            SetAttribute("</s>", TokenAttributes.RStrip, true);
            foreach (string text in (ReadOnlySpan<string>)["<unk>", "<s>", "<|endoftext|>"])
            {
                SetAttribute(text, TokenAttributes.RStrip, false);
            }
        }
    }

    /// <summary>The tokenizer algorithm.</summary>
    public TokenizerKind Kind { get; }

    /// <summary>The BPE pre-tokenizer name (<c>tokenizer.ggml.pre</c>), or null.</summary>
    public string? PreTokenizerName { get; }

    /// <summary>The number of tokens in the vocabulary.</summary>
    public int VocabularySize => _texts.Length;

    /// <summary>The beginning-of-sequence token id, or -1.</summary>
    public int BosId { get; }

    /// <summary>The end-of-sequence token id, or -1.</summary>
    public int EosId { get; }

    /// <summary>The end-of-turn token id (from metadata or found by its text as llama.cpp does), or -1.</summary>
    public int EotId { get; }

    /// <summary>The end-of-message token id, or -1.</summary>
    public int EomId { get; }

    /// <summary>The unknown token id, or -1.</summary>
    public int UnknownId { get; }

    /// <summary>The padding token id, or -1.</summary>
    public int PaddingId { get; }

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with <c>addSpecial</c> prepends BOS (<c>tokenizer.ggml.add_bos_token</c>).</summary>
    public bool AddBos { get; }

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with <c>addSpecial</c> appends EOS (<c>tokenizer.ggml.add_eos_token</c>).</summary>
    public bool AddEos { get; }

    /// <summary>Whether SentencePiece text gets a leading space (<c>tokenizer.ggml.add_space_prefix</c>).</summary>
    public bool AddSpacePrefix { get; }

    /// <summary>Builds the tokenizer of an open GGUF file; it copies what it needs, so the file may be disposed afterwards.</summary>
    /// <exception cref="NotSupportedException">The tokenizer model or BPE pre-tokenizer is not supported.</exception>
    /// <exception cref="InvalidDataException">The vocabulary metadata is inconsistent.</exception>
    public static Tokenizer FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new Tokenizer(file.Metadata);
    }

    /// <summary>Builds a tokenizer from GGUF metadata (<c>tokenizer.ggml.*</c>).</summary>
    /// <exception cref="NotSupportedException">The tokenizer model or BPE pre-tokenizer is not supported.</exception>
    /// <exception cref="InvalidDataException">The vocabulary metadata is inconsistent.</exception>
    public static Tokenizer FromMetadata(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return new Tokenizer(metadata);
    }

    /// <summary>Whether generating this token ends generation (EOS, EOT, EOM and the control tokens llama.cpp treats as EOG).</summary>
    public bool IsEndOfGeneration(int id) => (uint)id < (uint)_endOfGeneration.Length && _endOfGeneration[id];

    /// <summary>Whether the token is a control token (BOS, EOS, <c>&lt;|im_start|&gt;</c>…), rendered only on request.</summary>
    public bool IsControl(int id) => (uint)id < (uint)_attributes.Length && (_attributes[id] & TokenAttributes.Control) != 0;

    /// <summary>The token's text as stored in the vocabulary (byte-level or <c>▁</c>-escaped, not decoded).</summary>
    public string GetTokenText(int id) => _texts[CheckId(id)];

    /// <summary>Finds a token by its exact vocabulary text (e.g. <c>&lt;|im_end|&gt;</c>).</summary>
    public bool TryGetTokenId(string text, out int id)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _ids.TryGetValue(text, out id);
    }

    /// <summary>Tokenizes text like <c>llama_tokenize</c>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecial">Add BOS/EOS as the vocabulary asks (<see cref="AddBos"/>, <see cref="AddEos"/>).</param>
    /// <param name="parseSpecial">Turn control-token texts in <paramref name="text"/> (e.g. <c>&lt;|im_start|&gt;</c>) into their tokens.</param>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        var output = new List<int>(text?.Length / 3 + 2 ?? 2);
        Encode(text!, output, addSpecial, parseSpecial);
        return [.. output];
    }

    /// <summary>Tokenizes text like <c>llama_tokenize</c>, appending the ids to <paramref name="destination"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="destination">Receives the token ids (appended).</param>
    /// <param name="addSpecial">Add BOS/EOS as the vocabulary asks.</param>
    /// <param name="parseSpecial">Turn control-token texts in <paramref name="text"/> into their tokens.</param>
    public void Encode(string text, IList<int> destination, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(destination);
        List<int> output = destination as List<int> ?? [];
        List<Fragment> fragments = Partition(text, parseSpecial);
        if (addSpecial && AddBos)
        {
            output.Add(BosId);
        }

        bool previousSpecial = true;
        foreach (Fragment fragment in fragments)
        {
            if (fragment.Token >= 0)
            {
                output.Add(fragment.Token);
                previousSpecial = true;
                continue;
            }

            ReadOnlySpan<char> raw = text.AsSpan(fragment.Start, fragment.Length);
            if (_spm is not null)
            {
                EncodeSpm(raw, AddSpacePrefix && previousSpecial, output);
            }
            else if (_escapeWhitespace)
            {
                EncodeBpe(raw.ToString().Replace(' ', SpmSpace), output);
            }
            else
            {
                EncodeBpe(raw, output);
            }

            previousSpecial = false;
        }

        if (addSpecial && AddEos)
        {
            output.Add(EosId);
        }

        if (!ReferenceEquals(output, destination))
        {
            foreach (int id in output)
            {
                destination.Add(id);
            }
        }
    }

    /// <summary>The UTF-8 bytes a token stands for, like <c>llama_token_to_piece</c> (may be part of a character).</summary>
    /// <param name="id">The token id.</param>
    /// <param name="renderSpecial">Render control and unknown tokens as their text; when false they produce nothing.</param>
    public ReadOnlySpan<byte> TokenToPieceUtf8(int id, bool renderSpecial = true)
    {
        CheckId(id);
        return !renderSpecial && (_attributes[id] & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0 ? default : _pieces[id];
    }

    /// <summary>The text a token stands for, like <c>common_token_to_piece</c>; a partial UTF-8 sequence becomes U+FFFD.</summary>
    /// <param name="id">The token id.</param>
    /// <param name="renderSpecial">Render control and unknown tokens as their text.</param>
    public string TokenToPiece(int id, bool renderSpecial = true) => Encoding.UTF8.GetString(TokenToPieceUtf8(id, renderSpecial));

    /// <summary>Turns token ids back into text exactly like <c>llama_detokenize</c>.</summary>
    /// <param name="ids">The token ids.</param>
    /// <param name="removeSpecial">Drop a leading BOS and trailing EOS when the vocabulary adds them.</param>
    /// <param name="renderSpecial">Render control tokens as their text (<c>unparse_special</c>).</param>
    public string Decode(ReadOnlySpan<int> ids, bool removeSpecial = false, bool renderSpecial = false)
    {
        bool removeSpace = AddSpacePrefix;
        if (removeSpecial && AddBos && ids.Length > 0 && ids[0] == BosId)
        {
            removeSpace = false;
            ids = ids[1..];
        }

        if (removeSpecial && AddEos && ids.Length > 0 && ids[^1] == EosId)
        {
            ids = ids[..^1];
        }

        var bytes = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        foreach (int id in ids)
        {
            ReadOnlySpan<byte> piece = TokenToPieceUtf8(id, renderSpecial);
            if (removeSpace && piece.Length > 0 && piece[0] == (byte)' ')
            {
                piece = piece[1..];
            }

            removeSpace = false;
            bytes.Write(piece);
        }

        if (!_cleanSpaces)
        {
            return Encoding.UTF8.GetString(bytes.WrittenSpan);
        }

        byte[] text = bytes.WrittenSpan.ToArray();
        int total = CleanSpaces(text);
        return Encoding.UTF8.GetString(text, 0, total);
    }

    /// <summary>Starts a decoder that turns generated ids into text one at a time, holding back partial UTF-8 characters.</summary>
    /// <param name="renderSpecial">Render control tokens as their text.</param>
    public StreamingDecoder CreateStreamingDecoder(bool renderSpecial = false) => new(this, renderSpecial);

    private int CheckId(int id)
    {
        if ((uint)id >= (uint)_texts.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id must be in [0, {_texts.Length}).");
        }

        return id;
    }

    private void EncodeSpm(ReadOnlySpan<char> raw, bool spacePrefix, List<int> output)
    {
        int length = raw.Length + (spacePrefix ? 1 : 0);
        char[] chars = ArrayPool<char>.Shared.Rent(length);
        byte[]? utf8 = null;
        try
        {
            int at = 0;
            if (spacePrefix)
            {
                chars[at++] = SpmSpace;
            }

            foreach (char c in raw)
            {
                chars[at++] = c == ' ' ? SpmSpace : c;
            }

            utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(length));
            int count = Encoding.UTF8.GetBytes(chars, 0, length, utf8, 0);
            _spm!.Encode(utf8.AsSpan(0, count), output);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
            if (utf8 is not null)
            {
                ArrayPool<byte>.Shared.Return(utf8);
            }
        }
    }

    private void EncodeBpe(ReadOnlySpan<char> raw, List<int> output)
    {
        byte[] utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(raw.Length));
        int[] cpts = ArrayPool<int>.Shared.Rent(utf8.Length);
        int[] byteOffsets = ArrayPool<int>.Shared.Rent(utf8.Length + 1);
        try
        {
            int byteCount = Encoding.UTF8.GetBytes(raw, utf8);
            int count = Codepoints.FromUtf8(utf8.AsSpan(0, byteCount), cpts, byteOffsets);
            List<int> words = _preTokenizer!.Split(cpts.AsSpan(0, count));
            int start = 0;
            foreach (int length in words)
            {
                int from = byteOffsets[start];
                int to = byteOffsets[start + length];
                _bpe!.EncodeWord(utf8.AsSpan(from, to - from), output);
                start += length;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(byteOffsets);
            ArrayPool<int>.Shared.Return(cpts);
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    // llama.cpp's tokenizer_st_partition: split the text around special-token texts, longest tokens first.
    private List<Fragment> Partition(string text, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0)
        {
            return fragments;
        }

        fragments.Add(new Fragment(0, text.Length, -1));
        foreach (int id in _specialTokens)
        {
            TokenAttributes attributes = _attributes[id];
            if (!parseSpecial && (attributes & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0)
            {
                continue;
            }

            string special = _texts[id];
            List<Fragment>? next = null;
            for (int f = 0; f < fragments.Count; f++)
            {
                Fragment fragment = fragments[f];
                int match = fragment.Token >= 0 ? -1 : text.IndexOf(special, fragment.Start, fragment.Length, StringComparison.Ordinal);
                if (match < 0)
                {
                    next?.Add(fragment);
                    continue;
                }

                next ??= [.. fragments.Take(f)];
                int offset = fragment.Start;
                int length = fragment.Length;
                while (match >= 0)
                {
                    int leftLength = match - offset;
                    if ((attributes & TokenAttributes.LStrip) != 0)
                    {
                        while (leftLength > 0 && IsCSpace(text[offset + leftLength - 1]))
                        {
                            leftLength--;
                        }
                    }

                    if (leftLength > 0)
                    {
                        next.Add(new Fragment(offset, leftLength, -1));
                    }

                    next.Add(new Fragment(0, 0, id));
                    int rightOffset = match + special.Length;
                    int rightLength = offset + length - rightOffset;
                    if ((attributes & TokenAttributes.RStrip) != 0)
                    {
                        while (rightLength > 0 && IsCSpace(text[rightOffset]))
                        {
                            rightOffset++;
                            rightLength--;
                        }
                    }

                    offset = rightOffset;
                    length = rightLength;
                    match = length > 0 ? text.IndexOf(special, offset, length, StringComparison.Ordinal) : -1;
                }

                if (length > 0)
                {
                    next.Add(new Fragment(offset, length, -1));
                }
            }

            if (next is not null)
            {
                fragments = next;
            }
        }

        return fragments;
    }

    // C isspace in the "C" locale, which llama.cpp uses for lstrip/rstrip.
    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    // llama.cpp's clean_up_tokenization_spaces passes (detokenize with clean_spaces).
    private static int CleanSpaces(byte[] text)
    {
        int total1 = text.Length;
        int total = total1 > 0 ? 1 : 0;
        for (int i = 1; i < total1; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',')
            {
                total--;
            }

            text[total++] = x;
        }

        int total2 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total2; i++)
        {
            byte x = text[i];
            if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ')
            {
                total--;
                text[++i] = 0;
            }

            text[total++] = x;
        }

        int total3 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total3; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3)
            {
                byte x1 = text[i + 1];
                if (x1 is (byte)'s' or (byte)'m')
                {
                    total--;
                }
                else if (x1 is not ((byte)'t' or (byte)'d') && i + 2 < total3)
                {
                    byte x2 = text[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e'))
                    {
                        total--;
                    }
                }
            }

            text[total++] = x;
        }

        return total;
    }

    private byte[] BuildPiece(int id)
    {
        TokenAttributes attributes = _attributes[id];
        string text = _texts[id];
        if ((attributes & (TokenAttributes.Control | TokenAttributes.Unknown | TokenAttributes.UserDefined)) != 0)
        {
            return Encoding.UTF8.GetBytes(text);
        }

        if (Kind == TokenizerKind.SentencePiece)
        {
            if ((attributes & TokenAttributes.Normal) != 0)
            {
                return Encoding.UTF8.GetBytes(text.Replace(SpmSpace, ' '));
            }

            if ((attributes & TokenAttributes.Byte) != 0)
            {
                return [ParseByteToken(text) is int b and >= 0 ? (byte)b : throw new InvalidDataException($"Byte token {id} '{text}' is not of the form <0xXX>.")];
            }

            return [];
        }

        if ((attributes & TokenAttributes.Normal) == 0)
        {
            return (attributes & TokenAttributes.Byte) != 0 && ParseByteToken(text) is int raw and >= 0 ? [(byte)raw] : [];
        }

        if (_escapeWhitespace)
        {
            return Encoding.UTF8.GetBytes(text.Replace(SpmSpace, ' '));
        }

        // llama_decode_text: map each character back to its byte; characters outside the mapping are shown as llama.cpp does.
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in text.EnumerateRunes())
        {
            int b = ByteLevelMapping.ToByte(rune.Value);
            if (b >= 0)
            {
                bytes.Add((byte)b);
                continue;
            }

            int count = rune.EncodeToUtf8(utf8);
            var sb = new StringBuilder("[UNK_BYTE_0x");
            foreach (byte u in utf8[..count])
            {
                sb.Append(u.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }

            sb.Append(text).Append(']');
            bytes.AddRange(Encoding.UTF8.GetBytes(sb.ToString()));
        }

        return [.. bytes];
    }

    private static int ParseByteToken(string text) =>
        text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
        && byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out byte b)
            ? b
            : -1;

    private ByteSpanMap BuildUtf8Map()
    {
        var map = new ByteSpanMap(_texts.Length);
        for (int i = 0; i < _texts.Length; i++)
        {
            map.TryAdd(Encoding.UTF8.GetBytes(_texts[i]), i);
        }

        return map;
    }

    // llama.cpp's byte_to_token for SPM: "<0xXX>", else the single byte as text.
    private int[] BuildByteTokens()
    {
        var result = new int[256];
        for (int b = 0; b < 256; b++)
        {
            result[b] = _ids.TryGetValue($"<0x{b:X2}>", out int id) ? id
                : b < 0x80 && _ids.TryGetValue(((char)b).ToString(), out id) ? id
                : -1;
        }

        return result;
    }

    private ByteSpanMap BuildRawByteMap()
    {
        var map = new ByteSpanMap(_texts.Length);
        var bytes = new List<byte>(64);
        for (int i = 0; i < _texts.Length; i++)
        {
            // A text with characters outside GPT-2's byte mapping can never equal a byte-encoded word.
            if (ByteLevelMapping.TryDecode(_texts[i], bytes))
            {
                map.TryAdd(bytes.ToArray(), i);
            }
        }

        return map;
    }

    private static ByteSpanMap BuildMerges(GgufMetadata metadata, bool rawUtf8)
    {
        if (!metadata.TryGetValue("tokenizer.ggml.merges", out GgufValue? mergesValue))
        {
            throw new InvalidDataException("A gpt2 vocabulary needs tokenizer.ggml.merges.");
        }

        IReadOnlyList<string> merges = mergesValue.AsStringArray();
        var map = new ByteSpanMap(merges.Count);
        var left = new List<byte>(32);
        var right = new List<byte>(32);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            string merge = merges[rank];
            int space = merge.Length > 1 ? merge.IndexOf(' ', 1) : -1;
            if (space < 0)
            {
                continue;
            }

            if (rawUtf8)
            {
                map.TryAdd(BpeEncoder.MergeKey(Encoding.UTF8.GetBytes(merge[..space]), Encoding.UTF8.GetBytes(merge[(space + 1)..])), rank);
            }
            else if (ByteLevelMapping.TryDecode(merge[..space], left) && ByteLevelMapping.TryDecode(merge[(space + 1)..], right))
            {
                map.TryAdd(BpeEncoder.MergeKey(left.ToArray(), right.ToArray()), rank);
            }
        }

        return map;
    }

    private int ReadId(GgufMetadata metadata, string key, int defaultId)
    {
        int id = defaultId >= 0 && defaultId < _texts.Length ? defaultId : -1;
        long value = metadata.GetInt64OrDefault(key, -1);
        return value >= 0 && value < _texts.Length ? (int)value : id;
    }

    private int FindAndMarkControl(string[] texts)
    {
        int found = -1;
        foreach (string text in texts)
        {
            if (_ids.TryGetValue(text, out int id) && (found < 0 || id < found))
            {
                found = id;
            }
        }

        if (found >= 0)
        {
            _attributes[found] |= TokenAttributes.Control;
        }

        return found;
    }

    private void ApplyHarmonyAndGemmaWorkarounds()
    {
        bool Eog(string text, out int id) => _ids.TryGetValue(text, out id) && _endOfGeneration[id];

        if (Eog("<|end|>", out int end) && ((Eog("<|return|>", out _) && (Eog("<|call|>", out _) || Eog("<|calls|>", out _)))
            || ((Eog("<|call|>", out _) || Eog("<|calls|>", out _)) && Eog("<|flush|>", out _))))
        {
            _endOfGeneration[end] = false;
            _attributes[end] = TokenAttributes.UserDefined;
        }

        if (Eog("<|tool_response>", out _) && Eog("</s>", out int s))
        {
            _endOfGeneration[s] = false;
            _attributes[s] = TokenAttributes.Normal;
        }
    }

    private void SetAttribute(string text, TokenAttributes attribute, bool value)
    {
        if (_ids.TryGetValue(text, out int id))
        {
            _attributes[id] = value ? _attributes[id] | attribute : _attributes[id] & ~attribute;
        }
    }

    private readonly record struct Fragment(int Start, int Length, int Token);
}
