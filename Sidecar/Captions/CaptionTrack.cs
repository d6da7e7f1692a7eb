using System.Text;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Captions;

/// <summary>
/// The caption state of one language: turns ordered by their committed chain (not by arrival), tentative until
/// their final text arrives, finalized strictly in order; publishes laid-out updates and clears after silence.
/// </summary>
/// <remarks>
/// The engine calls from one receive loop, the silence timer from a timer thread: state is guarded by a lock, and
/// updates are published inside it so one language's updates leave in <see cref="CaptionUpdate.Sequence"/> order
/// (<see cref="ICaptionPublisher.Publish"/> never blocks).
/// </remarks>
public sealed class CaptionTrack : ICaptionInput, IDisposable
{
    /// <summary>How long an earlier turn may stay pending after a later one completed before it is given up.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(15);

    // Ids of finished turns are kept a while so late events for them are ignored instead of starting new turns.
    private const int RetiredIdsKept = 256;

    private static readonly TimeSpan MinimumTimerDelay = TimeSpan.FromMilliseconds(1);

    private readonly string _language;
    private readonly ICaptionPublisher _publisher;
    private readonly TimeProvider _time;
    private readonly TimeSpan _clearAfter;
    private readonly CaptionLayout _layout;
    private readonly Lock _gate = new();
    private readonly List<Turn> _turns = [];
    private readonly HashSet<string> _retired = new(StringComparer.Ordinal);
    private readonly Queue<string> _retiredOrder = new();
    private readonly long _createdAt;
    private readonly ITimer _timer;
    private IReadOnlyList<CaptionLine> _shownLines = [];
    private string _shownTentative = "";
    private TimeSpan _lastTextAt;
    private TimeSpan? _speechStartedAt;
    private TimeSpan? _speechStoppedAt;
    private long _sequence;
    private int _index;
    private bool _disposed;

    public CaptionTrack(CaptionLanguage language, CaptionOptions options, ICaptionPublisher publisher, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(language);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(publisher);
        ArgumentNullException.ThrowIfNull(time);
        _language = language.Code;
        _publisher = publisher;
        _time = time;
        _clearAfter = TimeSpan.FromSeconds(options.ClearAfterSeconds);
        _layout = new CaptionLayout(options.MaxLines, options.MaxCharactersPerLine);
        _createdAt = time.GetTimestamp();
        _timer = time.CreateTimer(static state => ((CaptionTrack)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Turns not yet final or dropped (for tests of bounded memory).</summary>
    internal int HeldTurns
    {
        get
        {
            lock (_gate)
            {
                return _turns.Count;
            }
        }
    }

    /// <summary>Ids of finished turns remembered to ignore their late events (for tests of bounded memory).</summary>
    internal int RememberedIds
    {
        get
        {
            lock (_gate)
            {
                return _retired.Count;
            }
        }
    }

    /// <inheritdoc />
    public void SpeechStarted(TimeSpan at)
    {
        lock (_gate)
        {
            _speechStartedAt = at;
        }
    }

    /// <inheritdoc />
    public void SpeechStopped(TimeSpan at)
    {
        lock (_gate)
        {
            _speechStoppedAt = at;
        }
    }

    /// <inheritdoc />
    public void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        lock (_gate)
        {
            if (_disposed || _retired.Contains(itemId))
            {
                return;
            }

            var turn = _turns.Find(t => t.Id == itemId);
            if (turn is null)
            {
                turn = new Turn(itemId, Now());
            }
            else
            {
                _turns.Remove(turn);
            }

            turn.Committed = true;
            turn.PreviousId = previousItemId;
            turn.Start = start;
            turn.End = end < start ? start : end;
            _turns.Insert(PositionOf(turn), turn);
            Update(mayShrink: false);
        }
    }

    /// <inheritdoc />
    public void TextDelta(string itemId, string delta)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        if (string.IsNullOrEmpty(delta))
        {
            return;
        }

        lock (_gate)
        {
            if (_disposed || _retired.Contains(itemId))
            {
                return;
            }

            var turn = FindOrAdd(itemId);
            if (turn.FinalText is not null || turn.Failed)
            {
                return;
            }

            turn.Tentative.Append(delta);
            if (!string.IsNullOrWhiteSpace(delta))
            {
                _lastTextAt = Now();
            }

            Update(mayShrink: false);
        }
    }

    /// <inheritdoc />
    public void TextCompleted(string itemId, string text)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        lock (_gate)
        {
            if (_disposed || _retired.Contains(itemId))
            {
                return;
            }

            var turn = FindOrAdd(itemId);
            var now = Now();
            turn.FinalText = text?.Trim() ?? "";
            turn.Failed = turn.FinalText.Length == 0;
            turn.Tentative.Clear();
            turn.CompletedAt = _speechStoppedAt is { } stopped && stopped >= turn.FallbackStart ? stopped : now;
            _lastTextAt = now;
            if (!turn.Failed)
            {
                GiveUpPredecessorsLater(turn, now);
            }

            Update(mayShrink: true);
        }
    }

    /// <inheritdoc />
    public void TurnFailed(string itemId, string reason)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        lock (_gate)
        {
            if (_disposed || _retired.Contains(itemId))
            {
                return;
            }

            var turn = _turns.Find(t => t.Id == itemId);
            if (turn is null)
            {
                // Not seen yet: remember it so its late text or commit does not start a turn.
                Retire(itemId);
                return;
            }

            // Nothing waits for earlier turns here, so they get no give-up deadline.
            turn.Failed = true;
            Update(mayShrink: true);
        }
    }

    /// <summary>
    /// A moderator cleared the captions: the screen empties now (speech still being recognised shows again as it
    /// grows). Transcripts are not touched.
    /// </summary>
    public void Clear()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _layout.Clear();
            _shownLines = [];
            _shownTentative = "";
            Publish(CaptionUpdateKind.Cleared, [], []);
            ScheduleTimer();
        }
    }

    /// <summary>
    /// Shows <paramref name="text"/> alone on a clean screen, as a line still being spoken (so transcripts do not
    /// record it), to check the outputs' layout; it clears after the usual silence like any caption.
    /// </summary>
    public void ShowTestLine(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _layout.Clear();
            _shownLines = _layout.Render(_layout.Normalize(text));
            _shownTentative = "";
            _lastTextAt = Now();
            Publish(CaptionUpdateKind.Text, _shownLines, []);
            _layout.Clear();
            ScheduleTimer();
        }
    }

    /// <summary>
    /// Publishes the completed turns still held back by a pending predecessor (a pending turn's text never became
    /// final, so it is dropped) and stops the timer. Later calls are ignored.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            foreach (var turn in _turns.Where(t => t.FinalText is null))
            {
                turn.Failed = true;
            }

            Update(mayShrink: true);
            _disposed = true;
            _timer.Dispose();
        }
    }

    private TimeSpan Now() => _time.GetElapsedTime(_createdAt);

    private Turn FindOrAdd(string itemId)
    {
        var turn = _turns.Find(t => t.Id == itemId);
        if (turn is null)
        {
            // Text before its commit: at the end until the commit places it.
            turn = new Turn(itemId, _speechStartedAt ?? Now());
            _turns.Add(turn);
        }

        return turn;
    }

    private int PositionOf(Turn turn)
    {
        // A turn committed earlier that names this one as its predecessor (commits out of order) follows it.
        var follower = _turns.FindIndex(t => t.Committed && t.PreviousId == turn.Id);
        if (follower >= 0)
        {
            return follower;
        }

        if (turn.PreviousId is { } previous)
        {
            var at = _turns.FindIndex(t => t.Id == previous);
            if (at >= 0)
            {
                return at + 1;
            }

            if (_retired.Contains(previous))
            {
                // Its predecessor is finished, so it comes before everything still pending.
                return 0;
            }
        }

        // The first turn (of a session): after every committed turn, before text that is not committed yet.
        return _turns.FindLastIndex(t => t.Committed) + 1;
    }

    /// <summary>Earlier turns still pending now hold back <paramref name="completed"/>: they get 15 s more at most.</summary>
    private void GiveUpPredecessorsLater(Turn completed, TimeSpan now)
    {
        foreach (var turn in _turns.TakeWhile(t => t != completed))
        {
            if (turn.FinalText is null && !turn.Failed)
            {
                turn.GiveUpAt ??= now + GiveUpAfter;
            }
        }
    }

    private void Retire(string itemId)
    {
        if (_retired.Add(itemId))
        {
            _retiredOrder.Enqueue(itemId);
            if (_retiredOrder.Count > RetiredIdsKept)
            {
                _retired.Remove(_retiredOrder.Dequeue());
            }
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var now = Now();
            foreach (var turn in _turns.Where(t => t.GiveUpAt <= now && t.FinalText is null))
            {
                turn.Failed = true;
            }

            Update(mayShrink: true);
            if (ClearDueAt() <= Now())
            {
                _layout.Clear();
                _shownLines = [];
                _shownTentative = "";
                Publish(CaptionUpdateKind.Cleared, [], []);
            }

            ScheduleTimer();
        }
    }

    /// <summary>Finalizes what is ready, lays out the text and publishes when something changed. Under the lock.</summary>
    private void Update(bool mayShrink)
    {
        var finalized = FinalizeReady();
        var tentative = _layout.Normalize(string.Join(' ', _turns.Where(t => !t.Failed).Select(t => t.FinalText ?? t.Tentative.ToString())));

        // Append-only deltas only grow the tail; only a completion, failure or finalization may shorten it.
        if (!mayShrink && finalized.Count == 0 && tentative.Length < _shownTentative.Length)
        {
            tentative = _shownTentative;
        }

        var lines = _layout.Render(tentative);
        if (finalized.Count > 0)
        {
            _lastTextAt = Now();
        }

        if (finalized.Count > 0 || !lines.SequenceEqual(_shownLines))
        {
            _shownLines = lines;
            _shownTentative = tentative;
            Publish(CaptionUpdateKind.Text, lines, finalized);
        }

        if (!_disposed)
        {
            ScheduleTimer();
        }
    }

    private List<CaptionItem> FinalizeReady()
    {
        var finalized = new List<CaptionItem>();
        while (_turns.Count > 0 && (_turns[0].Failed || _turns[0].FinalText is not null))
        {
            var turn = _turns[0];
            _turns.RemoveAt(0);
            Retire(turn.Id);
            if (turn.Failed)
            {
                continue;
            }

            var (start, end) = turn.Committed ? (turn.Start, turn.End) : (turn.FallbackStart, turn.CompletedAt);
            var text = turn.FinalText!;
            finalized.Add(new CaptionItem(_language, ++_index, turn.Id, text, start, end < start ? start : end));
            _layout.AppendFinal(text);
        }

        return finalized;
    }

    private void Publish(CaptionUpdateKind kind, IReadOnlyList<CaptionLine> lines, IReadOnlyList<CaptionItem> finalized) =>
        _publisher.Publish(new CaptionUpdate(_language, ++_sequence, kind, lines, finalized, _time.GetUtcNow()));

    /// <summary>When the screen clears if nothing changes, or <see cref="TimeSpan.MaxValue"/> for never.</summary>
    private TimeSpan ClearDueAt()
    {
        var tentativeShown = _turns.Any(t => !t.Failed && (t.FinalText is not null || t.Tentative.Length > 0));
        return _clearAfter > TimeSpan.Zero && _shownLines.Count > 0 && !tentativeShown ? _lastTextAt + _clearAfter : TimeSpan.MaxValue;
    }

    private void ScheduleTimer()
    {
        var due = ClearDueAt();
        foreach (var turn in _turns)
        {
            if (turn.GiveUpAt is { } giveUp && turn.FinalText is null && !turn.Failed && giveUp < due)
            {
                due = giveUp;
            }
        }

        if (due == TimeSpan.MaxValue)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        var delay = due - Now();
        _timer.Change(delay < MinimumTimerDelay ? MinimumTimerDelay : delay, Timeout.InfiniteTimeSpan);
    }

    private sealed class Turn(string id, TimeSpan fallbackStart)
    {
        public string Id { get; } = id;

        /// <summary>Start when no commit gives one: speech start, or when its text first arrived.</summary>
        public TimeSpan FallbackStart { get; } = fallbackStart;

        public bool Committed { get; set; }

        public string? PreviousId { get; set; }

        public TimeSpan Start { get; set; }

        public TimeSpan End { get; set; }

        public StringBuilder Tentative { get; } = new();

        public string? FinalText { get; set; }

        public TimeSpan CompletedAt { get; set; }

        public bool Failed { get; set; }

        public TimeSpan? GiveUpAt { get; set; }
    }
}
