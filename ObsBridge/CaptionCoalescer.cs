namespace CaptionSidecar.ObsBridge;

/// <summary>The next text update to send: the text source's name, its text, whether the source must be found or
/// created first, and the source epoch it was taken in (see <see cref="CaptionCoalescer.Delivered"/>).</summary>
internal readonly record struct CaptionWork(string Source, string Text, bool NeedsSource, long Epoch);

/// <summary>
/// What each OBS text source (one per language, and optionally one per speaker and language) should show next,
/// decided without sockets or clocks: partial texts coalesce (latest wins), final texts queue in order (at most
/// <c>maxQueuedFinals</c>, oldest dropped and counted), and each source is updated at most once per
/// <c>minInterval</c>. It also remembers whether a source is known to exist: a reconnect or a removed source starts a
/// new epoch, so a source check that finished for an older epoch cannot mark the new one ready. Sources are keyed by
/// their OBS input name.
/// </summary>
/// <remarks>Not thread-safe: <see cref="ObsCaptionOutput"/> calls it under its lock.</remarks>
internal sealed class CaptionCoalescer(int maxQueuedFinals, TimeSpan minInterval)
{
    private readonly Dictionary<string, Source> _sources = new(StringComparer.Ordinal);

    /// <summary>Partial updates replaced by a newer one before they were sent.</summary>
    public long Coalesced { get; private set; }

    /// <summary>Updates not delivered (final queue full, or OBS down).</summary>
    public long Dropped { get; private set; }

    /// <summary>The sources that have had a caption.</summary>
    public IEnumerable<string> Sources => _sources.Keys;

    /// <summary>A new text for <paramref name="source"/>; a final one is always delivered (unless the queue overflows).</summary>
    public void Set(string source, string text, bool isFinal)
    {
        if (!_sources.TryGetValue(source, out var state))
        {
            state = new Source();
            _sources[source] = state;
        }

        state.Current = text;
        if (state.Partial is not null)
        {
            Coalesced++;
            state.Partial = null;
        }

        if (!isFinal)
        {
            state.Partial = text;
            return;
        }

        state.Finals.Enqueue(text);
        if (state.Finals.Count > maxQueuedFinals)
        {
            state.Finals.Dequeue();
            Dropped++;
        }
    }

    /// <summary>A new connection: every source is checked again and shows its current text once more.</summary>
    public void Reconnected()
    {
        foreach (var state in _sources.Values)
        {
            state.Invalidate();
        }
    }

    /// <summary>The source was removed or renamed: find or create it again.</summary>
    public void SourceGone(string source)
    {
        if (_sources.TryGetValue(source, out var state))
        {
            state.Invalidate();
        }
    }

    /// <summary>OBS is down: pending updates are dropped (counted); the current text is sent once it is back.</summary>
    public void DropPending()
    {
        foreach (var state in _sources.Values)
        {
            var pending = state.Finals.Count + (state.Partial is null ? 0 : 1);
            if (pending > 0)
            {
                Dropped += pending;
                state.Finals.Clear();
                state.Partial = null;
                state.ResendCurrent = true;
            }
        }
    }

    /// <summary>
    /// The next update due at <paramref name="now"/> (finals in order, then the latest partial, then after a
    /// reconnect the current text), or null; <paramref name="nextDue"/> is how long until a rate-limited one is due.
    /// </summary>
    public CaptionWork? TakeDue(DateTimeOffset now, out TimeSpan? nextDue)
    {
        nextDue = null;
        foreach (var (source, state) in _sources)
        {
            if (!state.HasWork)
            {
                continue;
            }

            if (state.NextAllowed > now)
            {
                var due = state.NextAllowed - now;
                nextDue = nextDue is { } earlier && earlier < due ? earlier : due;
                continue;
            }

            state.NextAllowed = now + minInterval;
            return new CaptionWork(source, state.TakeNext(), !state.SourceReady, state.Epoch);
        }

        return null;
    }

    /// <summary>OBS accepted the update: its source exists (unless a newer epoch began meanwhile).</summary>
    public void Delivered(CaptionWork work)
    {
        if (_sources.TryGetValue(work.Source, out var state) && state.Epoch == work.Epoch)
        {
            state.SourceReady = true;
        }
    }

    /// <summary>The update failed: the current text is sent again on the next attempt.</summary>
    public void Failed(CaptionWork work)
    {
        if (_sources.TryGetValue(work.Source, out var state))
        {
            state.ResendCurrent = true;
            state.NextAllowed = default;
            Dropped++;
        }
    }

    private sealed class Source
    {
        public string Current { get; set; } = string.Empty;

        public string? Partial { get; set; }

        public Queue<string> Finals { get; } = new();

        public bool ResendCurrent { get; set; }

        public bool SourceReady { get; set; }

        public long Epoch { get; private set; }

        public DateTimeOffset NextAllowed { get; set; }

        public bool HasWork => Finals.Count > 0 || Partial is not null || ResendCurrent;

        public void Invalidate()
        {
            Epoch++;
            SourceReady = false;
            ResendCurrent = true;
        }

        public string TakeNext()
        {
            ResendCurrent = false;
            if (Finals.TryDequeue(out var final))
            {
                return final;
            }

            if (Partial is { } partial)
            {
                Partial = null;
                return partial;
            }

            return Current;
        }
    }
}
