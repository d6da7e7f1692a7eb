using CaptionSidecar.Captions;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Pipeline;

/// <summary>
/// A track the pipeline runs, and the caption tracks it writes to (its outlets: one per speaker it serves). Its stop
/// source has no timer and no wait handle, so it holds nothing that needs disposing: it is never disposed, and a stop
/// (a language turned off, a speaker muted) may cancel it at any time, even while the track ends by itself. The host's
/// stop reaches it through a registration that the track's end removes.
/// </summary>
internal sealed class RunningTrack
{
    private readonly CancellationTokenRegistration _hostStop;
    private readonly Lock _gate = new();
    private readonly List<Outlet> _outlets = [];

    public RunningTrack(TrackKey key, CancellationToken hostStopping, DateTimeOffset startedAt)
    {
        Key = key;
        StartedAt = startedAt;
        _hostStop = hostStopping.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), Stop);
    }

    public TrackKey Key { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>The track's status now (with its speaker).</summary>
    public Func<TrackStatus> Status { get; set; } = static () => new TrackStatus("?", TrackSessionState.Starting);

    /// <summary>Stops this track alone, or with the host.</summary>
    public CancellationTokenSource Stop { get; } = new();

    public Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>True when this track writes captions of <paramref name="language"/>.</summary>
    public bool Produces(string language) => TrackPlan.Same(Key.Language, language);

    /// <summary>Adds the caption track of <paramref name="speaker"/> in <paramref name="language"/>; returns it.</summary>
    public CaptionTrack AddOutlet(string speaker, string language, CaptionTrack captions, ICaptionInput? input = null)
    {
        lock (_gate)
        {
            _outlets.Add(new Outlet(speaker, language, captions) { Input = input ?? captions });
        }

        return captions;
    }

    /// <summary>The outlet of <paramref name="speaker"/>, or null.</summary>
    public Outlet? Find(string speaker)
    {
        lock (_gate)
        {
            return _outlets.Find(o => o.Speaker == speaker);
        }
    }

    /// <summary>A snapshot of the outlets.</summary>
    public IReadOnlyList<Outlet> Outlets()
    {
        lock (_gate)
        {
            return [.. _outlets];
        }
    }

    /// <summary>Removes the link to the host's stop (the track has ended).</summary>
    public void Unlink() => _hostStop.Dispose();

    /// <summary>One caption track a track writes to, and the input the track calls (the caption track as the mix watches it).</summary>
    internal sealed record Outlet(string Speaker, string Language, CaptionTrack Captions)
    {
        public ICaptionInput Input { get; set; } = Captions;
    }
}
