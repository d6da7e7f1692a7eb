using System.Text;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Captions;

/// <summary>
/// The caption state of one language: turns ordered by their committed chain (not by arrival), tentative until
/// their final text arrives, finalized strictly in order; publishes laid-out updates and clears after silence.
/// </summary>
/// <remarks>
/// <para>The engine calls from one receive loop, the silence timer from a timer thread: state is guarded by a lock,
/// and updates are published inside it so one language's updates leave in <see cref="CaptionUpdate.Sequence"/>
/// order (<see cref="ICaptionPublisher.Publish"/> never blocks).</para>
/// <para>Everything held is bounded, whatever the engine sends: text for an item not committed is held apart (not
/// shown; the engine commits before it transcribes) until its commit places it, at most
/// <see cref="CaptionOptions.MaxUncommittedTurns"/> items for <see cref="CaptionOptions.UncommittedTurnSeconds"/>;
/// committed turns still pending are at most <see cref="MaxPendingTurns"/>; one delta and one turn's text are cut
/// to <see cref="CaptionOptions.MaxDeltaCharacters"/> and <see cref="CaptionOptions.MaxTurnCharacters"/>. What is
/// dropped or cut is reported to <see cref="ICaptionPublisher.Discarded"/>. Every event costs a dictionary look-up
/// plus work on the (bounded) pending turns, never on how many items the engine has named.</para>
/// </remarks>
public sealed class CaptionTrack : ICaptionInput, IDisposable
{
    /// <summary>How long an earlier turn may stay pending after a later one completed before it is given up.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(15);

    /// <summary>Committed turns waiting for their text at most; beyond, the oldest is given up (a turn is seconds of speech).</summary>
    public const int MaxPendingTurns = 128;

    // Ids of finished turns are kept a while so late events for them are ignored instead of starting new turns.
    private const int RetiredIdsKept = 256;

    private static readonly TimeSpan MinimumTimerDelay = TimeSpan.FromMilliseconds(1);

    private readonly string _language;
    private readonly SpeakerLabel? _speaker;
    private readonly ICaptionPublisher _publisher;
    private readonly TimeProvider _time;
    private readonly TimeSpan _clearAfter;
    private readonly CaptionLayout _layout;
    private readonly Lock _gate = new();
    private readonly int _maxDeltaCharacters;
    private readonly int _maxTurnCharacters;
    private readonly int _maxUncommitted;
    private readonly TimeSpan _uncommittedKeep;

    // Committed turns in chain order, and the same turns by id.
    private readonly List<Turn> _turns = [];
    private readonly Dictionary<string, Turn> _committed = new(StringComparer.Ordinal);

    // Turns with text but no commit yet, oldest first, and the same by id.
    private readonly LinkedList<Turn> _uncommitted = new();
    private readonly Dictionary<string, LinkedListNode<Turn>> _uncommittedById = new(StringComparer.Ordinal);
    private readonly HashSet<string> _retired = new(StringComparer.Ordinal);
    private readonly Queue<string> _retiredOrder = new();
    private readonly long _createdAt;
    private readonly ITimer _timer;
    private IReadOnlyList<CaptionLine> _shownLines = [];
    private string _shownTentative = "";
    private TimeSpan _lastTextAt;
    private long _sequence;
    private int _index;
    private bool _disposed;

    /// <param name="language">The caption language.</param>
    /// <param name="options">Layout, silence clear and bounds.</param>
    /// <param name="publisher">Where updates go.</param>
    /// <param name="time">The clock.</param>
    /// <param name="speaker">Who speaks on this track: every line and final item carries it; null for the unnamed speaker.</param>
    public CaptionTrack(CaptionLanguage language, CaptionOptions options, ICaptionPublisher publisher, TimeProvider time, SpeakerLabel? speaker = null)
    {
        ArgumentNullException.ThrowIfNull(language);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(publisher);
        ArgumentNullException.ThrowIfNull(time);
        _language = language.Code;
        _speaker = speaker;
        _publisher = publisher;
        _time = time;
        _clearAfter = TimeSpan.FromSeconds(options.ClearAfterSeconds);
        _layout = new CaptionLayout(options.MaxLines, options.MaxCharactersPerLine);
        _maxDeltaCharacters = options.MaxDeltaCharacters;
        _maxTurnCharacters = options.MaxTurnCharacters;
        _maxUncommitted = options.MaxUncommittedTurns;
        _uncommittedKeep = TimeSpan.FromSeconds(options.UncommittedTurnSeconds);
        _createdAt = time.GetTimestamp();
        _timer = time.CreateTimer(static state => ((CaptionTrack)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Items with text but no commit, held until their commit (for tests of bounded memory).</summary>
    internal int HeldUncommittedTurns
    {
        get
        {
            lock (_gate)
            {
                return _uncommitted.Count;
            }
        }
    }

    /// <summary>Committed turns not yet final or dropped (for tests of bounded memory).</summary>
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
    /// <remarks>Captions take their times from commits; speech edges change nothing here.</remarks>
    public void SpeechStarted(TimeSpan at)
    {
    }

    /// <inheritdoc />
    /// <remarks>Captions take their times from commits; speech edges change nothing here.</remarks>
    public void SpeechStopped(TimeSpan at)
    {
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

            if (_committed.TryGetValue(itemId, out var turn))
            {
                // Committed again (a repeated event): placed anew by the latest chain.
                _turns.Remove(turn);
            }
            else if (_uncommittedById.Remove(itemId, out var node))
            {
                // Its text came first: it is placed now, with what it has.
                _uncommitted.Remove(node);
                turn = node.Value;
            }
            else
            {
                turn = new Turn(itemId, Now());
            }

            turn.PreviousId = previousItemId;
            turn.Start = start;
            turn.End = end < start ? start : end;
            _turns.Insert(PositionOf(turn), turn);
            _committed[itemId] = turn;
            if (turn.FinalText is not null && !turn.Failed)
            {
                GiveUpPredecessorsLater(turn, Now());
            }

            GiveUpBeyondPendingBound();
            Update(mayShrink: turn.FinalText is not null);
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

            var committed = _committed.TryGetValue(itemId, out var turn);
            turn ??= HeldUncommitted(itemId);
            if (turn.FinalText is not null || turn.Failed || !Append(turn, delta) || !committed)
            {
                // Text of an item not committed is not shown: nothing changes on screen.
                return;
            }

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

            var committed = _committed.TryGetValue(itemId, out var turn);
            turn ??= HeldUncommitted(itemId);
            if (turn.FinalText is not null)
            {
                // A repeated completion: the first one counts.
                return;
            }

            turn.FinalText = Bounded(turn, text?.Trim() ?? "", _maxTurnCharacters, CaptionDiscardReason.TurnTooLong);
            turn.Failed = turn.FinalText.Length == 0;
            turn.Tentative.Clear();
            if (!committed)
            {
                // Held until its commit says where it goes and when it was said.
                return;
            }

            var now = Now();
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

            if (!_committed.TryGetValue(itemId, out var turn))
            {
                // Not committed: forget its text, and remember it so its late text or commit does not start a turn.
                if (_uncommittedById.Remove(itemId, out var node))
                {
                    _uncommitted.Remove(node);
                }

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
    /// final, so it is dropped), drops (and reports) text still waiting for a commit, and stops the timer. Later calls are ignored.
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

            // Text whose commit never came: dropped, and counted like any other.
            while (_uncommitted.First is { } held)
            {
                DropUncommitted(held, CaptionDiscardReason.UncommittedTooOld);
            }

            _disposed = true;
            _timer.Dispose();
        }
    }

    private TimeSpan Now() => _time.GetElapsedTime(_createdAt);

    /// <summary>The held turn of an item not committed, added (making room within the bounds) when new.</summary>
    private Turn HeldUncommitted(string itemId)
    {
        if (_uncommittedById.TryGetValue(itemId, out var node))
        {
            return node.Value;
        }

        var now = Now();
        DropExpiredUncommitted(now);
        if (_uncommitted.Count >= _maxUncommitted)
        {
            DropUncommitted(_uncommitted.First!, CaptionDiscardReason.UncommittedTooMany);
        }

        var wasEmpty = _uncommitted.Count == 0;
        node = _uncommitted.AddLast(new Turn(itemId, now));
        _uncommittedById[itemId] = node;
        if (wasEmpty)
        {
            // The oldest held item changed: its expiry may be the next thing the timer must do.
            ScheduleTimer();
        }

        return node.Value;
    }

    private void DropExpiredUncommitted(TimeSpan now)
    {
        while (_uncommitted.First is { } oldest && oldest.Value.FirstSeenAt + _uncommittedKeep <= now)
        {
            DropUncommitted(oldest, CaptionDiscardReason.UncommittedTooOld);
        }
    }

    private void DropUncommitted(LinkedListNode<Turn> node, CaptionDiscardReason reason)
    {
        var turn = node.Value;
        _uncommitted.Remove(node);
        _uncommittedById.Remove(turn.Id);
        Discard(reason, turn.Id, turn.FinalText?.Length ?? turn.Tentative.Length);
    }

    /// <summary>
    /// More committed turns held than <see cref="MaxPendingTurns"/> (a server that commits and never transcribes):
    /// the oldest pending ones are given up, so the next finalization brings the count back to the bound.
    /// </summary>
    private void GiveUpBeyondPendingBound()
    {
        var excess = _turns.Count - MaxPendingTurns;
        for (var i = 0; excess > 0 && i < _turns.Count; i++, excess--)
        {
            var turn = _turns[i];
            if (turn.FinalText is null && !turn.Failed)
            {
                turn.Failed = true;
                Discard(CaptionDiscardReason.PendingTooMany, turn.Id, turn.Tentative.Length);
            }
        }
    }

    /// <summary>Appends a delta within the bounds; false when nothing was appended.</summary>
    private bool Append(Turn turn, string delta)
    {
        delta = Bounded(turn, delta, _maxDeltaCharacters, CaptionDiscardReason.DeltaTooLong);
        delta = Bounded(turn, delta, _maxTurnCharacters - turn.Tentative.Length, CaptionDiscardReason.TurnTooLong);
        if (delta.Length == 0)
        {
            return false;
        }

        turn.Tentative.Append(delta);
        return true;
    }

    /// <summary><paramref name="text"/> cut to <paramref name="max"/> characters (never inside a surrogate pair), reported once per turn.</summary>
    private string Bounded(Turn turn, string text, int max, CaptionDiscardReason reason)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var keep = Math.Max(0, max);
        if (keep > 0 && char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }

        if (!turn.CutReported)
        {
            turn.CutReported = true;
            Discard(reason, turn.Id, text.Length - keep);
        }

        return text[..keep];
    }

    private void Discard(CaptionDiscardReason reason, string itemId, long characters) =>
        _publisher.Discarded(new CaptionDiscard(_language, reason, itemId, characters));

    private int PositionOf(Turn turn)
    {
        // A turn committed earlier that names this one as its predecessor (commits out of order) follows it.
        var follower = _turns.FindIndex(t => t.PreviousId == turn.Id);
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

        // The first turn (of a session): after every committed turn.
        return _turns.Count;
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

            DropExpiredUncommitted(now);
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
            _committed.Remove(turn.Id);
            Retire(turn.Id);
            if (turn.Failed)
            {
                continue;
            }

            var text = turn.FinalText!;
            finalized.Add(new CaptionItem(_language, ++_index, turn.Id, text, turn.Start, turn.End, _speaker));
            _layout.AppendFinal(text);
        }

        return finalized;
    }

    private void Publish(CaptionUpdateKind kind, IReadOnlyList<CaptionLine> lines, IReadOnlyList<CaptionItem> finalized)
    {
        if (_speaker is { } speaker)
        {
            lines = [.. lines.Select(l => l with { Speaker = speaker })];
        }

        _publisher.Publish(new CaptionUpdate(_language, ++_sequence, kind, lines, finalized, _time.GetUtcNow()));
    }

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

        if (_uncommitted.First is { } oldest && oldest.Value.FirstSeenAt + _uncommittedKeep < due)
        {
            due = oldest.Value.FirstSeenAt + _uncommittedKeep;
        }

        if (due == TimeSpan.MaxValue)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        var delay = due - Now();
        _timer.Change(delay < MinimumTimerDelay ? MinimumTimerDelay : delay, Timeout.InfiniteTimeSpan);
    }

    private sealed class Turn(string id, TimeSpan firstSeenAt)
    {
        public string Id { get; } = id;

        /// <summary>When the track first heard of it (its commit, or its text when that came first).</summary>
        public TimeSpan FirstSeenAt { get; } = firstSeenAt;

        public string? PreviousId { get; set; }

        public TimeSpan Start { get; set; }

        public TimeSpan End { get; set; }

        public StringBuilder Tentative { get; } = new();

        public string? FinalText { get; set; }

        public bool Failed { get; set; }

        /// <summary>Its text was cut once already (one warning per turn).</summary>
        public bool CutReported { get; set; }

        public TimeSpan? GiveUpAt { get; set; }
    }
}
