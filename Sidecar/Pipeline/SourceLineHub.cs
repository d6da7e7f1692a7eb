using System.Threading.Channels;
using CaptionSidecar.Captions;
using CaptionSidecar.Translation;

namespace CaptionSidecar.Pipeline;

/// <summary>
/// Hands every speaker's final lines to the text translations of the other languages, each through its own bounded
/// queue. Full policy: the oldest line waiting is dropped and counted (a translation that far behind would be skipped
/// by its lag limit anyway), so a stalled translation never holds up the captions or another language.
/// </summary>
internal sealed class SourceLineHub
{
    /// <summary>Lines waiting per translation at most (minutes of speech; the lag limit skips them long before).</summary>
    public const int Capacity = 256;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Subscriber> _subscribers = new(StringComparer.OrdinalIgnoreCase);
    private bool _completed;

    /// <summary>Lines dropped from the full queue of <paramref name="language"/>.</summary>
    public long DroppedFor(string language)
    {
        lock (_gate)
        {
            return _subscribers.TryGetValue(language, out var s) ? s.Dropped : 0;
        }
    }

    /// <summary>A queue that receives the final lines, from now on, of every speaker who does not speak <paramref name="language"/>.</summary>
    public ChannelReader<SourceLine> Subscribe(string language)
    {
        var subscriber = new Subscriber();
        lock (_gate)
        {
            if (_completed)
            {
                subscriber.Channel.Writer.TryComplete();
            }
            else
            {
                _subscribers[language] = subscriber;
            }
        }

        return subscriber.Channel.Reader;
    }

    /// <summary>Stops feeding <paramref name="language"/>'s queue and completes it.</summary>
    public void Unsubscribe(string language)
    {
        Subscriber? removed;
        lock (_gate)
        {
            _subscribers.Remove(language, out removed);
        }

        removed?.Channel.Writer.TryComplete();
    }

    /// <summary>A line became final: every other language's translation gets it.</summary>
    public void Publish(SourceLine line)
    {
        ArgumentNullException.ThrowIfNull(line);
        lock (_gate)
        {
            foreach (var (language, subscriber) in _subscribers)
            {
                if (!TrackPlan.Same(language, line.Language))
                {
                    subscriber.Channel.Writer.TryWrite(line); // DropOldest: never fails, counts the drop
                }
            }
        }
    }

    /// <summary>No line will come any more (every speaker's input ended and their transcriptions finished): every queue completes.</summary>
    public void Complete()
    {
        List<Subscriber> all;
        lock (_gate)
        {
            _completed = true;
            all = [.. _subscribers.Values];
        }

        foreach (var subscriber in all)
        {
            subscriber.Channel.Writer.TryComplete();
        }
    }

    /// <summary>
    /// The publisher of a speaker's transcription track: its updates go on to <paramref name="next"/> (the language's
    /// mix), and its final lines also to the hub, as <see cref="SourceLine"/>s of <paramref name="speaker"/>.
    /// </summary>
    public ICaptionPublisher Tee(ICaptionPublisher next, Speakers.Speaker speaker, TimeProvider time) => new SourceTee(this, next, speaker, time);

    private sealed class SourceTee(SourceLineHub hub, ICaptionPublisher next, Speakers.Speaker speaker, TimeProvider time) : ICaptionPublisher
    {
        public void Publish(CaptionUpdate update)
        {
            if (update.Finalized.Count > 0)
            {
                var now = time.GetTimestamp();
                foreach (var item in update.Finalized)
                {
                    if (!string.IsNullOrWhiteSpace(item.Text))
                    {
                        hub.Publish(new SourceLine(speaker.Key, speaker.Label, item.Language, item.ItemId, item.Text, item.Start, item.End, now));
                    }
                }
            }

            next.Publish(update);
        }

        public void Discarded(CaptionDiscard discard) => next.Discarded(discard);
    }

    private sealed class Subscriber
    {
        private long _dropped;

        public Subscriber()
        {
            Channel = System.Threading.Channels.Channel.CreateBounded<SourceLine>(
                new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                _ => Interlocked.Increment(ref _dropped));
        }

        public Channel<SourceLine> Channel { get; }

        public long Dropped => Interlocked.Read(ref _dropped);
    }
}
