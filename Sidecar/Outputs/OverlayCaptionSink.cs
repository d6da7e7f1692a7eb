using CaptionSidecar.Captions;
using CaptionSidecar.Overlay;

namespace CaptionSidecar.Outputs;

/// <summary>
/// Adapts caption updates to the overlay's <see cref="CaptionFeed"/>. The feed's sequence per language must only
/// grow, also when a language is turned off and on again (its caption track then starts counting anew), so this sink
/// numbers the updates itself. A named speaker's line carries the speaker's name and colour as its label
/// (<see cref="OverlayCaptions"/>, shared with the relay's publisher). It also
/// counts finished lines for the control page's captions-per-minute figure.
/// </summary>
internal sealed class OverlayCaptionSink(CaptionFeed feed, TimeProvider time) : ICaptionSink
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Dictionary<string, long> _sequences = new(StringComparer.Ordinal);
    private readonly Queue<DateTimeOffset> _finished = new();
    private readonly Lock _gate = new();

    public string Name => "overlay";

    /// <summary>Finished caption lines (all languages) over the last minute.</summary>
    public double CaptionsPerMinute
    {
        get
        {
            lock (_gate)
            {
                Trim(time.GetUtcNow());
                return _finished.Count;
            }
        }
    }

    public ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        feed.Publish(OverlayCaptions.From(update, Next(update.Language)));
        if (update.Finalized.Count > 0)
        {
            lock (_gate)
            {
                var now = time.GetUtcNow();
                foreach (var _ in update.Finalized)
                {
                    _finished.Enqueue(now);
                }

                Trim(now);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken)
    {
        feed.Publish(OverlayCaptions.Closed(language, Next(language), time.GetUtcNow()));
        return ValueTask.CompletedTask;
    }

    private long Next(string language)
    {
        lock (_gate)
        {
            var next = _sequences.GetValueOrDefault(language) + 1;
            _sequences[language] = next;
            return next;
        }
    }

    private void Trim(DateTimeOffset now)
    {
        while (_finished.Count > 0 && now - _finished.Peek() > Window)
        {
            _finished.Dequeue();
        }
    }
}
