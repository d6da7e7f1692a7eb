namespace CaptionSidecar.Captions;

/// <summary>
/// Maps positions on the audio pipeline's timeline (<see cref="CaptionItem.Start"/>, <see cref="Audio.AudioChunk.Start"/>)
/// to wall-clock UTC, for outputs that must say when a line was spoken (YouTube's caption ingestion). The timeline's
/// zero is placed when the first chunk of audio arrives: at that moment the chunk's end was just captured, so zero is
/// that moment minus the chunk's end. Until audio arrives (and for the test pattern, which has no audio and counts
/// from the sidecar's start) zero is when this was made, at the host's start. Later chunks never move it: a live
/// input's sample clock and the wall clock advance together, and several speakers' timelines start together.
/// </summary>
/// <remarks>A file read without pacing (<c>--no-pacing</c>) runs its timeline faster than the wall clock; its times then lie ahead.</remarks>
public sealed class AudioTimeline
{
    private readonly TimeProvider _time;
    private long _zeroTicks;
    private int _anchored;

    /// <summary>Makes the timeline with its zero at the current time of <paramref name="time"/>.</summary>
    public AudioTimeline(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _zeroTicks = time.GetUtcNow().UtcTicks;
    }

    /// <summary>UTC of the timeline's zero.</summary>
    public DateTimeOffset Zero => new(Interlocked.Read(ref _zeroTicks), TimeSpan.Zero);

    /// <summary>
    /// Audio up to <paramref name="capturedUpTo"/> on the timeline has just arrived: the first call places the zero
    /// (now minus that position); later calls change nothing.
    /// </summary>
    public void AudioArrived(TimeSpan capturedUpTo)
    {
        // Called for every chunk: a plain read first, the interlocked exchange only until the zero is placed.
        if (Volatile.Read(ref _anchored) == 1 || Interlocked.Exchange(ref _anchored, 1) == 1)
        {
            return;
        }

        Interlocked.Exchange(ref _zeroTicks, (_time.GetUtcNow() - capturedUpTo).UtcTicks);
    }

    /// <summary>The UTC moment of <paramref name="at"/> on the timeline.</summary>
    public DateTimeOffset ToUtc(TimeSpan at) => Zero + at;
}
