using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Overlay;

/// <summary>
/// The live caption feed behind <c>/ws/captions</c>: keeps the latest state per language and fans each update out
/// to every subscribed client. Each client has its own bounded queue drained by one writer; a client whose queue is
/// full is dropped (and logged) so it never delays the others. <see cref="Publish"/> never blocks on a client.
/// </summary>
public sealed partial class CaptionFeed
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ReadOnlyMemory<byte>> _latest = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<CaptionSubscription> _subscriptions = [];
    private readonly int _queueCapacity;
    private readonly ILogger<CaptionFeed> _logger;
    private long _published;
    private long _slowClientsDropped;

    /// <summary>Creates the feed; each client's queue holds <see cref="OverlayServerOptions.ClientQueueCapacity"/> updates.</summary>
    public CaptionFeed(IOptions<OverlayServerOptions> options, ILogger<CaptionFeed> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _queueCapacity = options.Value.ClientQueueCapacity;
        if (_queueCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), _queueCapacity, "OverlayServerOptions.ClientQueueCapacity must be at least 1.");
        }

        _logger = logger;
    }

    /// <summary>Number of clients subscribed now.</summary>
    public int ClientCount
    {
        get
        {
            lock (_gate)
            {
                return _subscriptions.Count;
            }
        }
    }

    /// <summary>Updates published since start.</summary>
    public long PublishedCount => Interlocked.Read(ref _published);

    /// <summary>Clients dropped since start because their queue was full.</summary>
    public long SlowClientsDropped => Interlocked.Read(ref _slowClientsDropped);

    /// <summary>
    /// Makes <paramref name="update"/> the current state of its language and queues it for every client that
    /// follows that language. Never blocks: a client whose queue is full is disconnected instead.
    /// </summary>
    public void Publish(OverlayCaption update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (string.IsNullOrWhiteSpace(update.Language))
        {
            throw new ArgumentException("OverlayCaption.Language must name a language (for example \"en\").", nameof(update));
        }

        // Serialised once, shared by every client.
        ReadOnlyMemory<byte> message = JsonSerializer.SerializeToUtf8Bytes(update, OverlayJsonContext.Default.OverlayCaption);
        List<CaptionSubscription>? overflowed = null;
        lock (_gate)
        {
            _latest[update.Language] = message;
            for (var i = _subscriptions.Count - 1; i >= 0; i--)
            {
                var subscription = _subscriptions[i];
                if (!subscription.Follows(update.Language) || subscription.TryEnqueue(message))
                {
                    continue;
                }

                _subscriptions.RemoveAt(i);
                (overflowed ??= []).Add(subscription);
            }
        }

        Interlocked.Increment(ref _published);
        if (overflowed is null)
        {
            return;
        }

        foreach (var subscription in overflowed)
        {
            Interlocked.Increment(ref _slowClientsDropped);
            LogSlowClientDropped(subscription.ClientName, _queueCapacity);
            subscription.Drop();
        }
    }

    /// <summary>
    /// Subscribes a client to the languages in <paramref name="languages"/> (empty: all). The current state of each
    /// of those languages is queued first, in the same critical section, so the client sees no gap and no repeat.
    /// Dispose the subscription when the client leaves.
    /// </summary>
    public CaptionSubscription Subscribe(IReadOnlyCollection<string> languages, string clientName)
    {
        ArgumentNullException.ThrowIfNull(languages);
        var subscription = new CaptionSubscription(this, languages, clientName, _queueCapacity);
        lock (_gate)
        {
            foreach (var (language, message) in _latest)
            {
                // A fresh queue can still overflow when more languages than its capacity are current.
                if (subscription.Follows(language) && !subscription.TryEnqueue(message))
                {
                    break;
                }
            }

            _subscriptions.Add(subscription);
        }

        return subscription;
    }

    /// <summary>The current state of every language, as last published (cleared languages included).</summary>
    public IReadOnlyList<OverlayCaption> CurrentState()
    {
        ReadOnlyMemory<byte>[] messages;
        lock (_gate)
        {
            messages = [.. _latest.Values];
        }

        return [.. messages.Select(m => JsonSerializer.Deserialize(m.Span, OverlayJsonContext.Default.OverlayCaption)!)];
    }

    internal void Remove(CaptionSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions.Remove(subscription);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Overlay client {Client} could not keep up ({Capacity} updates queued); disconnecting it")]
    private partial void LogSlowClientDropped(string client, int capacity);
}

/// <summary>
/// One client's place in the <see cref="CaptionFeed"/>: a bounded queue of serialised updates (UTF-8 JSON) for its
/// single writer to drain, and a token that is cancelled when the feed drops the client for being too slow.
/// </summary>
public sealed class CaptionSubscription : IDisposable
{
    private readonly CaptionFeed _feed;
    private readonly HashSet<string> _languages;
    private readonly Channel<ReadOnlyMemory<byte>> _queue;
    private readonly CancellationTokenSource _dropped = new();

    internal CaptionSubscription(CaptionFeed feed, IReadOnlyCollection<string> languages, string clientName, int capacity)
    {
        _feed = feed;
        _languages = new HashSet<string>(languages, StringComparer.OrdinalIgnoreCase);
        ClientName = clientName;
        _queue = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(capacity)
        {
            // Full is handled by the feed (the client is dropped); Wait makes TryWrite report it instead of discarding.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
    }

    /// <summary>A name for logs (for example the remote endpoint).</summary>
    public string ClientName { get; }

    /// <summary>Updates to send, in publish order; completes when the client is dropped or disposed.</summary>
    public ChannelReader<ReadOnlyMemory<byte>> Updates => _queue.Reader;

    /// <summary>Cancelled when the feed drops this client because its queue was full.</summary>
    public CancellationToken Dropped => _dropped.Token;

    internal bool Follows(string language) => _languages.Count == 0 || _languages.Contains(language);

    internal bool TryEnqueue(ReadOnlyMemory<byte> message) => _queue.Writer.TryWrite(message);

    internal void Drop()
    {
        _queue.Writer.TryComplete();
        _dropped.Cancel();
    }

    /// <summary>Leaves the feed.</summary>
    public void Dispose()
    {
        _feed.Remove(this);
        // _dropped is not disposed: the feed may still cancel it from Publish after the client left, and a
        // CancellationTokenSource without a timer holds nothing that needs releasing.
        _queue.Writer.TryComplete();
    }
}
