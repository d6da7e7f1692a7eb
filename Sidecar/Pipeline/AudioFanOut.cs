using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;

namespace CaptionSidecar.Pipeline;

/// <summary>
/// Hands every audio chunk to every language track, each through its own bounded queue, so a slow or reconnecting
/// track never stalls another. For a live source a full queue drops its oldest chunk (counted); for a file or stdin
/// the fan-out waits, so input flows only as fast as the slowest track reads (what <c>--no-pacing</c> relies on).
/// </summary>
internal sealed class AudioFanOut
{
    private readonly ChannelReader<AudioChunk> _source;
    private readonly bool _live;
    private readonly AudioTimeline? _timeline;
    private readonly int _capacity;
    private readonly Lock _gate = new();
    private Subscriber[] _subscribers = [];
    private bool _completed;
    private Exception? _completion;

    public AudioFanOut(ChannelReader<AudioChunk> source, bool live, int capacity, AudioTimeline? timeline = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _timeline = timeline;
        _source = source;
        _live = live;
        _capacity = capacity;
    }

    /// <summary>True once the source completed: every queue, including a new one, is complete.</summary>
    public bool IsCompleted
    {
        get
        {
            lock (_gate)
            {
                return _completed;
            }
        }
    }

    /// <summary>Chunks dropped so far for <paramref name="name"/>'s queue (live sources only).</summary>
    public long DroppedFor(string name) => Array.Find(Volatile.Read(ref _subscribers), s => s.Name == name)?.Dropped ?? 0;

    /// <summary>
    /// A new queue that receives every chunk from now on. When the input has already ended, the queue is complete.
    /// </summary>
    public ChannelReader<AudioChunk> Subscribe(string name)
    {
        var subscriber = new Subscriber(name, _live, _capacity);
        lock (_gate)
        {
            if (_completed)
            {
                subscriber.Channel.Writer.TryComplete(_completion);
            }
            else
            {
                _subscribers = [.. _subscribers, subscriber];
            }
        }

        return subscriber.Channel.Reader;
    }

    /// <summary>Stops feeding the queue of <paramref name="name"/> and completes it.</summary>
    public void Unsubscribe(string name)
    {
        Subscriber? removed;
        lock (_gate)
        {
            removed = Array.Find(_subscribers, s => s.Name == name);
            _subscribers = [.. _subscribers.Where(s => s.Name != name)];
        }

        removed?.Channel.Writer.TryComplete();
    }

    /// <summary>Copies chunks until the source completes (then completes every queue) or cancellation.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            await foreach (var chunk in _source.ReadAllAsync(cancellationToken))
            {
                _timeline?.AudioArrived(chunk.Start + chunk.Duration);
                foreach (var subscriber in Volatile.Read(ref _subscribers))
                {
                    if (_live)
                    {
                        subscriber.Channel.Writer.TryWrite(chunk); // DropOldest: never fails, counts the drop
                    }
                    else if (!subscriber.Channel.Writer.TryWrite(chunk))
                    {
                        try
                        {
                            await subscriber.Channel.Writer.WriteAsync(chunk, cancellationToken);
                        }
                        catch (ChannelClosedException)
                        {
                            // The track was turned off while we waited: nothing to deliver.
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        Subscriber[] toComplete;
        lock (_gate)
        {
            _completed = true;
            _completion = failure;
            toComplete = _subscribers;
        }

        foreach (var subscriber in toComplete)
        {
            subscriber.Channel.Writer.TryComplete(failure);
        }
    }

    private sealed class Subscriber
    {
        private long _dropped;

        public Subscriber(string name, bool live, int capacity)
        {
            Name = name;
            Channel = System.Threading.Channels.Channel.CreateBounded<AudioChunk>(
                new BoundedChannelOptions(capacity)
                {
                    FullMode = live ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
                    SingleReader = true,
                    SingleWriter = true,
                },
                _ => Interlocked.Increment(ref _dropped));
        }

        public string Name { get; }

        public Channel<AudioChunk> Channel { get; }

        public long Dropped => Interlocked.Read(ref _dropped);
    }
}
