using System.Text;

namespace CaptionSidecar.Translation;

/// <summary>
/// The lines a text translation has taken and not finished, and what to do with them next, without a socket or a
/// clock (times are <see cref="TimeProvider.GetTimestamp"/> values passed in). Lines are asked for one at a time in
/// the order they came; a line waits while another is asked. A refused or failed answer is asked once more alone,
/// then the line fails; a line whose translation is not final within the lag limit after it became final is skipped
/// (the caller cancels its response if it was being asked); a session lost mid-answer puts its line back first in
/// line, unharmed. Every line finishes exactly once (completed, failed or skipped). Tentative text is passed on only
/// beyond what was already shown, so an answer asked again does not show its words twice. Owned by the track's loop.
/// </summary>
internal sealed class TextLineSchedule
{
    private readonly LinkedList<TextLine> _waiting = new();
    private readonly Dictionary<string, TextLine> _lines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastOfSpeaker = new(StringComparer.Ordinal);
    private readonly long _lagTicks;

    /// <param name="lag">How long after a line became final its translation may still be shown.</param>
    /// <param name="timestampFrequency">Timestamp ticks per second (<see cref="TimeProvider.TimestampFrequency"/>).</param>
    public TextLineSchedule(TimeSpan lag, long timestampFrequency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lag, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timestampFrequency, 0);
        _lagTicks = (long)(lag.TotalSeconds * timestampFrequency);
    }

    /// <summary>The line being asked for (its answer not final yet), if any.</summary>
    public TextLine? Active { get; private set; }

    /// <summary>Lines taken and not finished (the active one included).</summary>
    public int Pending => _lines.Count;

    /// <summary>
    /// Takes a line; returns its speaker's previous line in this track (the <c>previous</c> of its turn), and false
    /// when a line of that item id was already taken (it is ignored).
    /// </summary>
    public (bool Taken, string? Previous) Add(SourceLine line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (_lines.ContainsKey(line.ItemId) || _lastOfSpeaker.ContainsValue(line.ItemId))
        {
            return (false, null);
        }

        var previous = _lastOfSpeaker.GetValueOrDefault(line.SpeakerKey);
        _lastOfSpeaker[line.SpeakerKey] = line.ItemId;
        var entry = new TextLine(line, line.FinalAt + _lagTicks) { Previous = previous };
        _lines[line.ItemId] = entry;
        _waiting.AddLast(entry);
        return (true, previous);
    }

    /// <summary>
    /// Lines whose lag limit passed at <paramref name="now"/>, the active one included (the caller cancels its
    /// response): they are finished, skipped, oldest first.
    /// </summary>
    public IReadOnlyList<TextLine> TakeLate(long now)
    {
        var late = new List<TextLine>();
        if (Active is { } active && now >= active.Deadline)
        {
            late.Add(active);
            Finish(active);
        }

        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            if (now >= node.Value.Deadline)
            {
                late.Add(node.Value);
                _waiting.Remove(node);
                _lines.Remove(node.Value.Source.ItemId);
            }

            node = next;
        }

        late.Sort(static (a, b) => a.Order.CompareTo(b.Order));
        return late;
    }

    /// <summary>The earliest lag deadline of the lines pending, or null when none is.</summary>
    public long? NextDeadline
    {
        get
        {
            long? due = Active?.Deadline;
            foreach (var line in _waiting)
            {
                due = due is { } d && d <= line.Deadline ? d : line.Deadline;
            }

            return due;
        }
    }

    /// <summary>
    /// The next line to ask for (now the <see cref="Active"/> one, its text from this attempt starting empty), or null
    /// while one is active or none waits. Call <see cref="TakeLate"/> first, so a late line is never asked for.
    /// </summary>
    public TextLine? Next()
    {
        if (Active is not null || _waiting.First is not { } first)
        {
            return null;
        }

        _waiting.RemoveFirst();
        Active = first.Value;
        first.Value.BeginAttempt();
        return first.Value;
    }

    /// <summary>
    /// More text of the active line's answer: the part to show as tentative text (beyond what was shown already), or
    /// null when nothing new is to be shown or <paramref name="itemId"/> is not the active line.
    /// </summary>
    public string? Delta(string itemId, string delta)
    {
        if (Active is not { } line || line.Source.ItemId != itemId)
        {
            return null;
        }

        return line.Take(delta);
    }

    /// <summary>The active line's answer is final: the line is finished (returns it, or null when it was not the active one).</summary>
    public TextLine? Completed(string itemId)
    {
        if (Active is not { } line || line.Source.ItemId != itemId)
        {
            return null;
        }

        Finish(line);
        return line;
    }

    /// <summary>
    /// The active line's answer was refused or failed. The first time it is asked once more, alone and before the
    /// lines after it (<see cref="FailureOutcome.AskAlone"/>); the second time it is finished
    /// (<see cref="FailureOutcome.Failed"/>). <see cref="FailureOutcome.NotActive"/> when it was not the active line.
    /// </summary>
    public FailureOutcome Failed(string itemId)
    {
        if (Active is not { } line || line.Source.ItemId != itemId)
        {
            return FailureOutcome.NotActive;
        }

        Active = null;
        if (!line.Alone)
        {
            line.Alone = true;
            _waiting.AddFirst(line);
            return FailureOutcome.AskAlone;
        }

        _lines.Remove(itemId);
        return FailureOutcome.Failed;
    }

    /// <summary>The session asking for the active line was lost: the line is asked again first, as if never asked (no attempt counted).</summary>
    public void Interrupted()
    {
        if (Active is { } line)
        {
            Active = null;
            _waiting.AddFirst(line);
        }
    }

    /// <summary>Finishes every pending line (the end of the drain): returns them in order, for the caller to fail.</summary>
    public IReadOnlyList<TextLine> TakeAll()
    {
        var all = _lines.Values.OrderBy(l => l.Order).ToList();
        _lines.Clear();
        _waiting.Clear();
        Active = null;
        return all;
    }

    private void Finish(TextLine line)
    {
        _lines.Remove(line.Source.ItemId);
        if (Active == line)
        {
            Active = null;
        }
    }
}

/// <summary>What a failed answer means for its line.</summary>
internal enum FailureOutcome
{
    /// <summary>The line was not being asked for (a late answer of a line already finished).</summary>
    NotActive,

    /// <summary>The line is asked once more, alone, before the lines after it.</summary>
    AskAlone,

    /// <summary>Failed twice: the line is finished without a translation.</summary>
    Failed,
}

/// <summary>A line taken by a text translation, with what its asking needs.</summary>
internal sealed class TextLine
{
    private static long _order;
    private readonly StringBuilder _attempt = new();

    internal TextLine(SourceLine source, long deadline)
    {
        Source = source;
        Deadline = deadline;
        Order = Interlocked.Increment(ref _order);
    }

    /// <summary>The source line.</summary>
    public SourceLine Source { get; }

    /// <summary>When its translation is too late to show (a timestamp).</summary>
    public long Deadline { get; }

    /// <summary>Arrival order.</summary>
    public long Order { get; }

    /// <summary>Its speaker's previous line in this track (the <c>previous</c> of its turn), or null.</summary>
    public string? Previous { get; init; }

    /// <summary>
    /// True once its turn was reported to the caption track. A line is reported when it is first asked for (or
    /// finished without being asked), not when it arrives, so a backlog of lines (a file read faster than real time)
    /// waits here and not as turns pending in the caption track.
    /// </summary>
    public bool Committed { get; set; }

    /// <summary>True once an answer failed: the line is asked with no other context, and fails if refused again.</summary>
    public bool Alone { get; set; }

    /// <summary>Characters of tentative text already shown for the line (over all its attempts).</summary>
    public int Shown { get; private set; }

    internal void BeginAttempt() => _attempt.Clear();

    internal string? Take(string delta)
    {
        _attempt.Append(delta);
        if (_attempt.Length <= Shown)
        {
            return null;
        }

        var fresh = _attempt.ToString(Shown, _attempt.Length - Shown);
        Shown = _attempt.Length;
        return fresh;
    }
}
