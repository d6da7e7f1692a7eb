namespace CaptionSidecar.Captions;

/// <summary>
/// Roll-up caption layout of one language: words broken into lines of at most a number of characters, the last
/// lines shown. Line breaks inside final text are fixed once made, so a final word never changes or moves to
/// another line except by scrolling up; the tentative tail is laid out after the final text on every render.
/// </summary>
/// <remarks>
/// Lines break only at whitespace; a word longer than a line is split hard into line-sized pieces. Text without
/// spaces (Japanese, Chinese) is therefore split hard too. Not thread-safe: the caption track guards it.
/// </remarks>
internal sealed class CaptionLayout
{
    private readonly int _maxLines;
    private readonly int _maxCharactersPerLine;

    // Lines of final text, oldest first; only the last one can still take words. Lines older than the last
    // _maxLines can never be visible again (text only grows downwards), so they are forgotten.
    private readonly List<CaptionLine> _finalLines = [];

    public CaptionLayout(int maxLines, int maxCharactersPerLine)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLines, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCharactersPerLine, 1);
        _maxLines = maxLines;
        _maxCharactersPerLine = maxCharactersPerLine;
    }

    /// <summary>Whether no final text is laid out.</summary>
    public bool IsEmpty => _finalLines.Count == 0;

    /// <summary>Appends final text after the final text already laid out; its line breaks are fixed from now on.</summary>
    public void AppendFinal(string text)
    {
        foreach (var word in Words(text))
        {
            Place(_finalLines, word, final: true);
        }

        if (_finalLines.Count > _maxLines)
        {
            _finalLines.RemoveRange(0, _finalLines.Count - _maxLines);
        }
    }

    /// <summary>The visible lines: the final text, then <paramref name="tentative"/> laid out after it.</summary>
    public IReadOnlyList<CaptionLine> Render(string tentative)
    {
        var lines = new List<CaptionLine>(_finalLines);
        foreach (var word in Words(tentative))
        {
            Place(lines, word, final: false);
        }

        return lines.Count <= _maxLines ? lines : lines.GetRange(lines.Count - _maxLines, _maxLines);
    }

    /// <summary>Forgets all text, so the next text starts on a clean screen.</summary>
    public void Clear() => _finalLines.Clear();

    /// <summary>
    /// The text as the layout sees it: words separated by single spaces, over-long words split into pieces.
    /// Its length is the number of characters a render of it shows in total (before scrolling).
    /// </summary>
    public string Normalize(string text) => string.Join(' ', Words(text));

    private void Place(List<CaptionLine> lines, string word, bool final)
    {
        if (lines.Count == 0)
        {
            lines.Add(final ? new CaptionLine(word, "") : new CaptionLine("", word));
            return;
        }

        var last = lines[^1];
        var length = last.FinalText.Length + last.TentativeText.Length;
        if (length == 0)
        {
            lines[^1] = final ? new CaptionLine(word, "") : new CaptionLine(last.FinalText, word);
        }
        else if (length + 1 + word.Length <= _maxCharactersPerLine)
        {
            // The separating space belongs to the part the word is in, so a final part is only ever appended to.
            lines[^1] = final
                ? new CaptionLine(last.FinalText + " " + word, "")
                : new CaptionLine(last.FinalText, last.TentativeText + " " + word);
        }
        else
        {
            lines.Add(final ? new CaptionLine(word, "") : new CaptionLine("", word));
        }
    }

    private IEnumerable<string> Words(string text)
    {
        foreach (var word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            // Pieces are cut from the word's start, not the line's, so a growing tentative word keeps its breaks.
            for (var at = 0; at < word.Length; at += _maxCharactersPerLine)
            {
                yield return word.Substring(at, Math.Min(_maxCharactersPerLine, word.Length - at));
            }
        }
    }
}
