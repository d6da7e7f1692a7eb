using System.Diagnostics.CodeAnalysis;

namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// The caption lines the fake "recognises" (transcription sessions) and "translates" (conversation sessions), one
/// per turn, in order. A script has one column per language; the first column is the source language, the one
/// transcription sessions take their lines from. A conversation session takes its lines from its target language's
/// column. Positions are kept per language for the whole server, so a reconnecting session continues where its
/// language left off. Thread-safe. When a column runs out (or a language has none), turns get
/// <c>(unscripted turn N)</c>.
/// <para>
/// A conversation session's target language is read from its instructions (a response's own <c>instructions</c>
/// win over the session's): the unambiguous form is a marker <c>[lang:xx]</c>; otherwise the first
/// "into Name (xx)" or "into xx" whose code names a column (the sidecar writes "… into German (de)."); otherwise the
/// first column after the source.
/// </para>
/// <para>
/// Text translation: a conversation session that is sent the source sentence as text (a user <c>input_text</c>
/// item) is answered by row, not by position: <see cref="TryTranslate"/> finds the row whose source cell equals the
/// text (both trimmed, ordinal) and returns that row's cell of the target language; positions are not touched.
/// </para>
/// </summary>
public sealed class FakeScript
{
    private readonly Lock _gate = new();
    private readonly string[] _languages;
    private readonly Dictionary<string, string[]> _columns;
    private readonly Dictionary<string, int> _taken = new(StringComparer.OrdinalIgnoreCase);
    private readonly string[] _lines;
    private readonly Dictionary<string, Dictionary<string, string>> _rows;
    private int _sourceTaken;

    private FakeScript(string[] languages, Dictionary<string, string[]> columns, string[] sourceLines, Dictionary<string, Dictionary<string, string>> rows)
    {
        _languages = languages;
        _columns = columns;
        _lines = sourceLines;
        _rows = rows;
    }

    /// <summary>The source lines (first column; blank lines removed, others trimmed).</summary>
    public IReadOnlyList<string> Lines => _lines;

    /// <summary>The language codes of the columns, source first (empty for a script made of plain lines).</summary>
    public IReadOnlyList<string> Languages => _languages;

    /// <summary>How many transcription turns have taken a source line so far (scripted or not).</summary>
    public int TurnsTaken => Volatile.Read(ref _sourceTaken);

    /// <summary>A single-column script of the given lines; blank lines are skipped.</summary>
    public static FakeScript FromLines(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        return new FakeScript([], new(StringComparer.OrdinalIgnoreCase), Clean(lines), new(StringComparer.Ordinal));
    }

    /// <summary>
    /// A script with one column per language code, in the dictionary's enumeration order: the first column is the
    /// source language (transcription sessions), the others are targets. Blank lines are skipped. The lists are rows
    /// by index (cell n of every column belongs to source line n) for <see cref="TryTranslate"/>; when a source line
    /// appears twice, its first row counts.
    /// </summary>
    public static FakeScript FromColumns(IReadOnlyDictionary<string, IReadOnlyList<string>> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count == 0)
        {
            throw new ArgumentException("A column script needs at least one language column (the source language first).", nameof(columns));
        }

        var languages = new List<string>();
        var byLanguage = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var (language, lines) in columns)
        {
            if (string.IsNullOrWhiteSpace(language) || !byLanguage.TryAdd(language.Trim(), Clean(lines ?? [])))
            {
                throw new ArgumentException($"Column language codes must be non-empty and distinct; '{language}' is not.", nameof(columns));
            }

            languages.Add(language.Trim());
        }

        return new FakeScript([.. languages], byLanguage, byLanguage[languages[0]], Rows(languages, columns));
    }

    /// <summary>
    /// A script read from a UTF-8 text file. Either one caption line per non-empty line (a single source column),
    /// or columns: a header line of tab-separated language codes (<c>en\tes\tfr</c>, source first) followed by
    /// tab-separated lines, one cell per language (empty cells are skipped, like blank lines).
    /// </summary>
    public static FakeScript FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Script file '{path}' does not exist; pass a text file with one caption line per line, or a tab-separated header of language codes and lines.", path);
        }

        var lines = File.ReadAllLines(path);
        var header = lines.FirstOrDefault(l => l.Trim().Length > 0);
        if (header is null || !header.Contains('\t', StringComparison.Ordinal))
        {
            return FromLines(lines);
        }

        var languages = header.Split('\t').Select(l => l.Trim()).ToArray();
        var columns = languages.ToDictionary(l => l, _ => new List<string>(), StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.SkipWhile(l => l.Trim().Length == 0).Skip(1))
        {
            var cells = line.Split('\t');
            if (cells.Length > languages.Length)
            {
                throw new FormatException($"Script file '{path}': the line '{line}' has {cells.Length} cells but the header names {languages.Length} languages; use one tab-separated cell per language.");
            }

            for (var i = 0; i < cells.Length; i++)
            {
                columns[languages[i]].Add(cells[i]);
            }
        }

        return FromColumns(languages.ToDictionary(l => l, l => (IReadOnlyList<string>)columns[l], StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The cell of <paramref name="language"/> in the row whose source cell is <paramref name="sourceText"/> (both
    /// trimmed, exact ordinal match); false when no row has that source text or the row's cell is empty.
    /// </summary>
    public bool TryTranslate(string sourceText, string language, [NotNullWhen(true)] out string? translation)
    {
        ArgumentNullException.ThrowIfNull(sourceText);
        ArgumentNullException.ThrowIfNull(language);
        translation = null;
        return _rows.TryGetValue(sourceText.Trim(), out var row) && row.TryGetValue(language, out translation);
    }

    /// <summary>The first column after the source, or null when the script has no target column.</summary>
    internal string? DefaultTargetLanguage => _languages.Length > 1 ? _languages[1] : null;

    /// <summary>True when the script has a column for <paramref name="language"/>.</summary>
    internal bool HasColumn(string language) => _columns.ContainsKey(language);

    /// <summary>Takes the next source line for a transcription turn; the turn number (1-based, server-wide) is returned too.</summary>
    internal (int Turn, string Text) TakeNext()
    {
        var turn = Interlocked.Increment(ref _sourceTaken);
        return (turn, turn <= _lines.Length ? _lines[turn - 1] : $"(unscripted turn {turn})");
    }

    /// <summary>Takes the next line of <paramref name="language"/>'s column (1-based turn number per language).</summary>
    internal (int Turn, string Text) TakeNext(string language)
    {
        int turn;
        lock (_gate)
        {
            turn = _taken.GetValueOrDefault(language) + 1;
            _taken[language] = turn;
        }

        var column = _columns.GetValueOrDefault(language) ?? [];
        return (turn, turn <= column.Length ? column[turn - 1] : $"(unscripted turn {turn})");
    }

    /// <summary>Source text to its row's non-empty target cells; built from the columns before blank cells are removed.</summary>
    private static Dictionary<string, Dictionary<string, string>> Rows(List<string> languages, IReadOnlyDictionary<string, IReadOnlyList<string>> columns)
    {
        var cells = languages.Select(l => columns.First(c => string.Equals(c.Key.Trim(), l, StringComparison.Ordinal)).Value ?? []).ToArray();
        var rows = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        for (var n = 0; n < cells[0].Count; n++)
        {
            var source = cells[0][n].Trim();
            if (source.Length == 0 || rows.ContainsKey(source))
            {
                continue;
            }

            var row = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (var column = 1; column < languages.Count; column++)
            {
                if (n < cells[column].Count && cells[column][n].Trim() is { Length: > 0 } cell)
                {
                    row[languages[column]] = cell;
                }
            }

            rows[source] = row;
        }

        return rows;
    }

    private static string[] Clean(IEnumerable<string> lines) => [.. lines.Select(l => l.Trim()).Where(l => l.Length > 0)];
}
