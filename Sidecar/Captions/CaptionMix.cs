namespace CaptionSidecar.Captions;

/// <summary>
/// One caption language's mix of speakers: each speaker's caption track publishes here (<see cref="PublisherFor"/>)
/// and its engine input passes through <see cref="Watch"/>; the mix publishes the language's combined updates, with
/// its own sequence, to the outputs. The decisions are <see cref="CaptionMixState"/>'s; this class gives it a clock (a
/// timer for finals that wait) and one lock. The lock is held for a decision and the downstream
/// <see cref="ICaptionPublisher.Publish"/>, which never blocks, so the language's updates leave in sequence order.
/// </summary>
internal sealed class CaptionMix : IDisposable
{
    /// <summary>Longest a final line waits for another speaker's earlier turn (as long as a caption track waits for an earlier turn).</summary>
    public static readonly TimeSpan HoldLimit = CaptionTrack.GiveUpAfter;

    private readonly string _language;
    private readonly ICaptionPublisher _downstream;
    private readonly TimeProvider _time;
    private readonly CaptionMixState _state;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private long _sequence;
    private bool _disposed;
    private bool _enabled = true;

    public CaptionMix(string language, CaptionOptions options, ICaptionPublisher downstream, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _language = language;
        _downstream = downstream;
        _time = time;
        _state = new CaptionMixState(options.MaxLines, HoldLimit, time.TimestampFrequency);
        _timer = time.CreateTimer(static s => ((CaptionMix)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The language this mix publishes.</summary>
    public string Language => _language;

    /// <summary>
    /// False while the language is off: the mix keeps following its speakers (a speaker's transcription may run on
    /// for the translations of other languages) but publishes nothing.
    /// </summary>
    public bool Enabled
    {
        get
        {
            lock (_gate)
            {
                return _enabled;
            }
        }

        set
        {
            lock (_gate)
            {
                _enabled = value;
            }
        }
    }

    /// <summary>Final items waiting for another speaker's earlier turn (for tests).</summary>
    internal int HeldCount
    {
        get
        {
            lock (_gate)
            {
                return _state.HeldCount;
            }
        }
    }

    /// <summary>Where the caption track of <paramref name="speaker"/> (a speaker key) publishes.</summary>
    public ICaptionPublisher PublisherFor(string speaker) => new SpeakerPublisher(this, speaker);

    /// <summary>
    /// Wraps the caption track of <paramref name="speaker"/> so the mix sees which turns are pending (a final of
    /// another speaker that starts later waits for them).
    /// </summary>
    public ICaptionInput Watch(string speaker, ICaptionInput track) => new WatchedInput(this, speaker, track);

    /// <summary>The track of <paramref name="speaker"/> is gone: its lines leave the screen, its waiting finals are published.</summary>
    public void Remove(string speaker)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                Emit(_state.Remove(speaker, _time.GetTimestamp()));
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        _timer.Dispose();
    }

    private void OnUpdate(string speaker, CaptionUpdate update)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                Emit(_state.Update(speaker, update, _time.GetTimestamp()));
            }
        }
    }

    private void OnCommitted(string speaker, string item, TimeSpan start)
    {
        lock (_gate)
        {
            _state.Committed(speaker, item, start, _time.GetTimestamp());
            Arm();
        }
    }

    private void OnSettled(string speaker, string item)
    {
        lock (_gate)
        {
            _state.Settled(speaker, item);
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                Arm(); // handles the deadline that passed
            }
        }
    }

    private void Emit(MixOutput output)
    {
        Publish(output);
        Arm();
    }

    private void Publish(MixOutput output)
    {
        if (_enabled)
        {
            _downstream.Publish(new CaptionUpdate(_language, ++_sequence, output.Kind, output.Lines, output.Finalized, _time.GetUtcNow()));
        }
    }

    /// <summary>
    /// Sets the timer for the next deadline. A deadline already passed (the clock moved while the timer was being set,
    /// which is set relative to the time read) is handled at once, so no final waits for a tick that never comes.
    /// </summary>
    private void Arm()
    {
        while (!_disposed)
        {
            if (_state.NextDeadline() is not { } deadline)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                return;
            }

            var now = _time.GetTimestamp();
            if (deadline <= now)
            {
                if (_state.Tick(now) is { } output)
                {
                    Publish(output);
                }

                continue;
            }

            _timer.Change(TimeSpan.FromSeconds((double)(deadline - now) / _time.TimestampFrequency), Timeout.InfiniteTimeSpan);
            if (_time.GetTimestamp() < deadline)
            {
                return;
            }
        }
    }

    private sealed class SpeakerPublisher(CaptionMix mix, string speaker) : ICaptionPublisher
    {
        public void Publish(CaptionUpdate update) => mix.OnUpdate(speaker, update);

        public void Discarded(CaptionDiscard discard) => mix._downstream.Discarded(discard);
    }

    private sealed class WatchedInput(CaptionMix mix, string speaker, ICaptionInput inner) : ICaptionInput
    {
        public void SpeechStarted(TimeSpan at) => inner.SpeechStarted(at);

        public void SpeechStopped(TimeSpan at) => inner.SpeechStopped(at);

        public void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end)
        {
            mix.OnCommitted(speaker, itemId, start);
            inner.TurnCommitted(itemId, previousItemId, start, end);
        }

        public void TextDelta(string itemId, string delta) => inner.TextDelta(itemId, delta);

        public void TextCompleted(string itemId, string text)
        {
            mix.OnSettled(speaker, itemId);
            inner.TextCompleted(itemId, text);
        }

        public void TurnFailed(string itemId, string reason)
        {
            mix.OnSettled(speaker, itemId);
            inner.TurnFailed(itemId, reason);
        }
    }
}
