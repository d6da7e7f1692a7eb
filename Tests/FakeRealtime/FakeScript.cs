namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// The caption lines the fake "recognises", one per committed turn, in order. Shared by all sessions of one server
/// (a reconnecting client continues with the next line); thread-safe. When the lines run out, turns get
/// <c>(unscripted turn N)</c>.
/// </summary>
public sealed class FakeScript
{
    private readonly string[] _lines;
    private int _taken;

    private FakeScript(string[] lines)
    {
        _lines = lines;
    }

    /// <summary>The script lines (blank lines removed, others trimmed).</summary>
    public IReadOnlyList<string> Lines => _lines;

    /// <summary>How many turns have taken a line so far (scripted or not).</summary>
    public int TurnsTaken => Volatile.Read(ref _taken);

    /// <summary>A script of the given lines; blank lines are skipped.</summary>
    public static FakeScript FromLines(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        return new FakeScript([.. lines.Select(l => l.Trim()).Where(l => l.Length > 0)]);
    }

    /// <summary>A script read from a UTF-8 text file, one caption line per non-empty line.</summary>
    public static FakeScript FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Script file '{path}' does not exist; pass a text file with one caption line per line.", path);
        }

        return FromLines(File.ReadAllLines(path));
    }

    /// <summary>Takes the next line for a turn; the turn number (1-based, server-wide) is returned too.</summary>
    internal (int Turn, string Text) TakeNext()
    {
        var turn = Interlocked.Increment(ref _taken);
        return (turn, turn <= _lines.Length ? _lines[turn - 1] : $"(unscripted turn {turn})");
    }
}
