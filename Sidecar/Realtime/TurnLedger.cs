using CaptionSidecar.Audio;

namespace CaptionSidecar.Realtime;

/// <summary>
/// A session's turn bookkeeping, without a socket or a clock: where the server heard speech start and stop, which
/// committed turns still wait for their text, where a replacement session must resume, and whether the next chunk
/// must be held back so a pending turn's audio stays in the replay buffer. Owned by the session's loop (not
/// thread-safe); the session feeds it what it sent and what the server said.
/// </summary>
internal sealed class TurnLedger
{
    private readonly SessionTimeline _timeline = new();
    private readonly Dictionary<string, long> _speechStartMs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _speechEndMs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _pendingStartSample = new(StringComparer.Ordinal);
    private readonly HashSet<string> _leftToSuccessor = new(StringComparer.Ordinal);
    private long _lastCommitEndMs;
    private long _replayWaitGivenUpAt = -1;
    private long _successorHearsFrom = long.MaxValue;

    /// <summary>Where the last committed turn ended (pipeline sample); before any commit, where the session started.</summary>
    public long LastCommitEndSample { get; private set; }

    /// <summary>True between a <c>speech_started</c> and the turn's commit (VAD modes).</summary>
    public bool InSpeech { get; private set; }

    /// <summary>Audio appended since the last commit (manual mode), in samples.</summary>
    public long UncommittedSamples { get; private set; }

    /// <summary>The pipeline sample after the last live or replayed chunk sent.</summary>
    public long NextLiveSample { get; private set; }

    /// <summary>How many committed turns still wait for their text.</summary>
    public int PendingCount => _pendingStartSample.Count;

    /// <summary>The committed turns still waiting for their text.</summary>
    public IReadOnlyCollection<string> PendingTurns => _pendingStartSample.Keys;

    /// <summary>Where the oldest turn still waiting for its text starts (pipeline sample), or null when none waits.</summary>
    public long? OldestPendingSample => _pendingStartSample.Count > 0 ? _pendingStartSample.Values.Min() : null;

    /// <summary>Where a replacement session should start hearing audio again: the oldest pending turn, else the end of the last committed one.</summary>
    public long ResumeSample => OldestPendingSample ?? LastCommitEndSample;

    /// <summary>The session hears audio from <paramref name="resumeSample"/> on; until it commits a turn, a replacement resumes there too.</summary>
    public void Start(long resumeSample)
    {
        LastCommitEndSample = resumeSample;
        NextLiveSample = resumeSample;
    }

    /// <summary>A chunk of audio was sent.</summary>
    public void Appended(AudioChunk chunk)
    {
        _timeline.Appended(chunk.StartSample, chunk.SampleCount);
        NextLiveSample = chunk.StartSample + chunk.SampleCount;
        UncommittedSamples += chunk.SampleCount;
    }

    /// <summary>Silence that exists only in the session (appended to close the last turn) was sent.</summary>
    public void AppendedSilence(int samples) => _timeline.AppendedSessionOnly(samples);

    /// <summary>The session committed the buffer itself (manual mode).</summary>
    public void CommitSent() => UncommittedSamples = 0;

    /// <summary><c>speech_started</c>: remembers the start for the turn's commit; returns it on the pipeline timeline.</summary>
    public TimeSpan SpeechStarted(string? item, long audioStartMs)
    {
        InSpeech = true;
        return Edge(_speechStartMs, item, audioStartMs);
    }

    /// <summary><c>speech_stopped</c>: remembers the end for the turn's commit; returns it on the pipeline timeline.</summary>
    public TimeSpan SpeechStopped(string? item, long audioEndMs) => Edge(_speechEndMs, item, audioEndMs);

    /// <summary>
    /// <c>input_audio_buffer.committed</c>: places the turn on the pipeline timeline (from its speech edges, else from
    /// the end of the last turn to what was sent). A turn that starts in audio the successor heard after a handover is
    /// left to the successor (<see cref="CommittedTurn.LeftToSuccessor"/>); any other turn is pending until
    /// <see cref="Finished"/>.
    /// </summary>
    public CommittedTurn Committed(string item)
    {
        InSpeech = false;
        var startMs = _speechStartMs.Remove(item, out var s) ? s : _lastCommitEndMs;
        var endMs = _speechEndMs.Remove(item, out var e) ? e : _timeline.SessionSamples * 1000 / AudioChunk.SampleRate;
        var start = _timeline.ToPipeline(startMs);
        var end = _timeline.ToPipeline(Math.Max(startMs, endMs));
        _lastCommitEndMs = endMs;
        LastCommitEndSample = SampleOf(end);
        var startSample = SampleOf(start);
        if (startSample >= _successorHearsFrom)
        {
            _leftToSuccessor.Add(item);
            return new CommittedTurn(start, end, LeftToSuccessor: true);
        }

        _pendingStartSample[item] = startSample;
        return new CommittedTurn(start, end, LeftToSuccessor: false);
    }

    /// <summary>The turn got its text or failed; returns false when it was not pending.</summary>
    public bool Finished(string item) => _pendingStartSample.Remove(item);

    /// <summary>True while <paramref name="item"/> is a committed turn still waiting for its text.</summary>
    public bool IsPending(string item) => _pendingStartSample.ContainsKey(item);

    /// <summary>True for a turn committed after the handover from audio the successor heard too: the successor captions it.</summary>
    public bool IsLeftToSuccessor(string item) => _leftToSuccessor.Contains(item);

    /// <summary>The live audio went to a successor that hears from <paramref name="successorHearsFrom"/> (pipeline sample) on.</summary>
    public void HandedOver(long successorHearsFrom) => _successorHearsFrom = successorHearsFrom;

    /// <summary>
    /// The pending turn that holds <paramref name="chunk"/> back, or null when it may be sent: sending it would push
    /// the start of the oldest turn still waiting for its text out of a replay buffer of
    /// <paramref name="replayCapacitySamples"/>, so a replacement session could no longer hear that turn again.
    /// A turn given up on (<see cref="GiveUpWaitingFor"/>) no longer holds anything back.
    /// </summary>
    public long? HoldingBack(AudioChunk chunk, long replayCapacitySamples)
    {
        if (replayCapacitySamples <= 0 || OldestPendingSample is not { } oldest || oldest == _replayWaitGivenUpAt)
        {
            return null;
        }

        var room = replayCapacitySamples - chunk.SampleCount;
        return chunk.StartSample + chunk.SampleCount - oldest <= room ? null : oldest;
    }

    /// <summary>The turn starting at <paramref name="pendingSample"/> waited too long: audio is sent on regardless of it.</summary>
    public void GiveUpWaitingFor(long pendingSample) => _replayWaitGivenUpAt = pendingSample;

    /// <summary>The pipeline sample of a pipeline time.</summary>
    public static long SampleOf(TimeSpan t) => t.Ticks * AudioChunk.SampleRate / TimeSpan.TicksPerSecond;

    private TimeSpan Edge(Dictionary<string, long> edges, string? item, long ms)
    {
        if (item is not null)
        {
            edges[item] = ms;
        }

        return _timeline.ToPipeline(ms);
    }
}

/// <summary>A committed turn on the pipeline timeline.</summary>
/// <param name="Start">Where its speech started.</param>
/// <param name="End">Where its speech ended.</param>
/// <param name="LeftToSuccessor">True when the session's successor heard it too and captions it (after a handover).</param>
internal readonly record struct CommittedTurn(TimeSpan Start, TimeSpan End, bool LeftToSuccessor);
