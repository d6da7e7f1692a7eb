using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Overlay;

/// <summary>
/// The live caption feed behind <c>/ws/captions</c>: keeps the latest state per language and fans each update out
/// to every subscribed client. Each update is serialised once; <see cref="Publish"/> hands it to each client's
/// socket directly when that client is idle (its previous send completed and nothing waits), which on loopback or
/// a LAN is nearly always: one pass over the clients on the publisher's thread, like a node <c>ws</c> broadcast,
/// instead of one thread-pool wake-up per client. A client whose send is still pending gets the update in its own
/// bounded queue, drained in order by that send's continuation; a client whose queue is full is dropped (and logged)
/// so it never delays the others. <see cref="Publish"/> never blocks on a client.
/// </summary>
public sealed partial class CaptionFeed
{
    /// <summary>From this many clients on, a publish sends on several cores at once.</summary>
    internal const int ParallelFromClients = 64;

    private readonly Lock _gate = new();
    private readonly Lock _publishing = new();
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
    /// Makes <paramref name="update"/> the current state of its language and sends it to (or queues it for) every
    /// client that follows that language. Never blocks: a client whose queue is full is disconnected instead.
    /// </summary>
    /// <remarks>
    /// The sends run on the caller's thread (and, from <see cref="ParallelFromClients"/> clients on, on thread-pool
    /// threads beside it), about 15 microseconds of CPU per client (docs/benchmarks.md), so call it from a consumer of
    /// its own (the Sidecar's overlay caption sink has its own queue), not from audio or session code. Publishes are
    /// serialised, so every client gets updates in publish order.
    /// </remarks>
    public void Publish(OverlayCaption update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (string.IsNullOrWhiteSpace(update.Language))
        {
            throw new ArgumentException("OverlayCaption.Language must name a language (for example \"en\").", nameof(update));
        }

        // Serialised once, shared by every client.
        ReadOnlyMemory<byte> message = JsonSerializer.SerializeToUtf8Bytes(update, OverlayJsonContext.Default.OverlayCaption);
        List<CaptionSubscription>? overflowed;
        lock (_publishing)
        {
            // The snapshot and the new state are taken together: a client that subscribes after this point got this
            // update from Subscribe and is not in the snapshot, so it sees it exactly once.
            CaptionSubscription[] targets;
            lock (_gate)
            {
                _latest[update.Language] = message;
                targets = [.. _subscriptions.Where(s => s.Follows(update.Language))];
            }

            overflowed = Offer(targets, message);
            if (overflowed is not null)
            {
                lock (_gate)
                {
                    _subscriptions.RemoveAll(overflowed.Contains);
                }
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
    /// Hands <paramref name="message"/> to every target; returns those whose queue was full. With many clients the
    /// sends are split across the cores (each client in one share, so its updates stay in order): the cost is the
    /// per-socket send, and node's single event loop cannot do this.
    /// </summary>
    private static List<CaptionSubscription>? Offer(CaptionSubscription[] targets, ReadOnlyMemory<byte> message)
    {
        var shares = targets.Length < ParallelFromClients ? 1 : Math.Min(Environment.ProcessorCount, targets.Length / (ParallelFromClients / 2));
        var overflowed = new ConcurrentQueue<CaptionSubscription>();
        void OfferShare(int share)
        {
            for (var i = share; i < targets.Length; i += shares)
            {
                if (!targets[i].TryOffer(message))
                {
                    overflowed.Enqueue(targets[i]);
                }
            }
        }

        if (shares <= 1)
        {
            OfferShare(0);
        }
        else
        {
            Parallel.For(0, shares, OfferShare);
        }

        return overflowed.IsEmpty ? null : [.. overflowed];
    }

    /// <summary>
    /// Subscribes the open <paramref name="socket"/> to the languages in <paramref name="languages"/> (empty: all).
    /// The current state of each of those languages is sent first, in the same critical section as the subscription,
    /// so the client sees no gap and no repeat. From then on the feed is the socket's only sender of data messages
    /// (one send in flight at a time); the caller keeps receiving and closing. Dispose the subscription when the
    /// client leaves, before closing the socket.
    /// </summary>
    public CaptionSubscription Subscribe(WebSocket socket, IReadOnlyCollection<string> languages, string clientName)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(languages);
        var subscription = new CaptionSubscription(this, socket, languages, clientName, _queueCapacity);
        lock (_gate)
        {
            foreach (var (language, message) in _latest)
            {
                // A fresh queue can still overflow when more languages than its capacity are current.
                if (subscription.Follows(language) && !subscription.TryOffer(message))
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Overlay client {Client} went away while sending")]
    internal partial void LogSendFailed(Exception exception, string client);
}

/// <summary>
/// One client's place in the <see cref="CaptionFeed"/>: its socket, and a bounded queue of serialised updates
/// (UTF-8 JSON) that wait while a send to that socket is still pending. At most one send is in flight per socket:
/// the feed sends an update itself when the client is idle; otherwise the pending send's continuation takes the
/// queued updates in order, and the client is idle again once the queue is empty.
/// </summary>
public sealed class CaptionSubscription : IDisposable
{
    private readonly CaptionFeed _feed;
    private readonly WebSocket _socket;
    private readonly HashSet<string> _languages;
    private readonly int _capacity;
    private readonly Lock _sync = new();
    private readonly Queue<ReadOnlyMemory<byte>> _waiting = new();
    private readonly CancellationTokenSource _ended = new();
    private bool _sending;
    private bool _closed;

    internal CaptionSubscription(CaptionFeed feed, WebSocket socket, IReadOnlyCollection<string> languages, string clientName, int capacity)
    {
        _feed = feed;
        _socket = socket;
        _languages = new HashSet<string>(languages, StringComparer.OrdinalIgnoreCase);
        ClientName = clientName;
        _capacity = capacity;
    }

    /// <summary>A name for logs (for example the remote endpoint).</summary>
    public string ClientName { get; }

    /// <summary>Cancelled when the feed is done with this client: dropped for being too slow, or a send failed.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>True when the feed dropped this client because its queue was full (then abort, do not close politely).</summary>
    public bool WasDropped { get; private set; }

    /// <summary>Updates waiting behind a pending send now.</summary>
    public int Queued
    {
        get
        {
            lock (_sync)
            {
                return _waiting.Count;
            }
        }
    }

    internal bool Follows(string language) => _languages.Count == 0 || _languages.Contains(language);

    /// <summary>Sends <paramref name="message"/> now if the client is idle, else queues it; false when the queue is full.</summary>
    internal bool TryOffer(ReadOnlyMemory<byte> message)
    {
        lock (_sync)
        {
            if (_closed)
            {
                return true;
            }

            if (_sending)
            {
                if (_waiting.Count >= _capacity)
                {
                    return false;
                }

                _waiting.Enqueue(message);
                return true;
            }

            _sending = true;
        }

        // The publisher's thread is this socket's writer until a send stays pending; then DrainAsync takes over.
        var next = message;
        while (true)
        {
            ValueTask pending;
            try
            {
                pending = Send(next);
            }
            catch (Exception ex) when (ex is WebSocketException or InvalidOperationException or ObjectDisposedException)
            {
                Fail(ex);
                return true;
            }

            if (!pending.IsCompletedSuccessfully)
            {
                _ = DrainAsync(pending);
                return true;
            }

            // Consumes the (possibly pooled) result.
            pending.GetAwaiter().GetResult();
            if (FinishedSending(out next))
            {
                return true;
            }
        }
    }

    internal void Drop()
    {
        WasDropped = true;
        Close();
        _ended.Cancel();
    }

    /// <summary>Leaves the feed; no send starts after this (one in flight may still finish).</summary>
    public void Dispose()
    {
        _feed.Remove(this);
        Close();
        // _ended is not disposed: the feed may still cancel it from Publish after the client left, and a
        // CancellationTokenSource without a timer holds nothing that needs releasing.
    }

    // No cancellation token: a cancelled send aborts the socket anyway, and the uncancellable send completes
    // synchronously when the transport takes the bytes. A stuck send ends when the socket is aborted.
    private ValueTask Send(ReadOnlyMemory<byte> message) =>
        _socket.SendAsync(message, WebSocketMessageType.Text, WebSocketMessageFlags.EndOfMessage, CancellationToken.None);

    /// <summary>Ends the current send; true when the client is idle now, else <paramref name="next"/> is to be sent.</summary>
    private bool FinishedSending(out ReadOnlyMemory<byte> next)
    {
        lock (_sync)
        {
            if (_closed || !_waiting.TryDequeue(out next))
            {
                next = default;
                _sending = false;
                return true;
            }

            return false;
        }
    }

    private async Task DrainAsync(ValueTask pending)
    {
        try
        {
            await pending;
            while (!FinishedSending(out var next))
            {
                await Send(next);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            Fail(ex);
        }
    }

    private void Fail(Exception exception)
    {
        bool wasClosed;
        lock (_sync)
        {
            wasClosed = _closed;
        }

        if (!wasClosed)
        {
            _feed.LogSendFailed(exception, ClientName);
        }

        Close();
        _ended.Cancel();
    }

    private void Close()
    {
        lock (_sync)
        {
            _closed = true;
            _waiting.Clear();
        }
    }
}
