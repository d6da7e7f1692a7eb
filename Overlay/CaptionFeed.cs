using System.Net.WebSockets;
using System.Text.Json;
using CaptionSidecar.Overlay.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Overlay;

/// <summary>
/// The live caption feed behind <c>/ws/captions</c>: keeps the latest state per language and fans each update out
/// to every subscribed client. Each update is serialised and framed once (one array: the WebSocket frame, its payload
/// a slice of it), and the same bytes go to every client (see <see cref="CaptionFeedEndpoint"/>); it is put in each
/// client's bounded queue under the feed's lock (no send happens under any lock); then, outside it, the publisher
/// drains the queue of every client
/// that is idle (no send in flight), which on loopback or a LAN is nearly always: one pass over the clients on the
/// publisher's thread, like a node <c>ws</c> broadcast, instead of one thread-pool wake-up per client. A client whose
/// send stays pending is drained by that send's continuation; a client whose queue is full is dropped (and logged)
/// so it never delays the others. <see cref="Publish(OverlayCaption)"/> never blocks on a client.
/// </summary>
public sealed partial class CaptionFeed
{
    /// <summary>From this many clients on, a publish sends on several cores at once.</summary>
    internal const int ParallelFromClients = 64;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, FeedMessage> _latest = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<CaptionSubscription> _subscriptions = [];
    private readonly int _queueCapacity;
    private readonly ILogger<CaptionFeed> _logger;
    private long _published;
    private long _slowClientsDropped;
    private TimeProvider? _keepAliveTime;
    private TimeSpan _keepAliveInterval;
    private ITimer? _keepAlive;

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
    /// The sends run on the caller's thread (and, from <see cref="ParallelFromClients"/> clients on, the other shares
    /// on thread-pool work items that the caller does not wait for), about 15 microseconds of CPU per client
    /// (docs/benchmarks.md), so call it from a consumer of its own (the Sidecar's overlay caption sink has its own
    /// queue), not from audio or session code. Every client gets updates in the order their publishes took the feed's
    /// lock, also when several threads publish at once.
    /// </remarks>
    public void Publish(OverlayCaption update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (string.IsNullOrWhiteSpace(update.Language))
        {
            throw new ArgumentException("OverlayCaption.Language must name a language (for example \"en\").", nameof(update));
        }

        // Serialised and framed once, shared by every client.
        Fan(update.Language, FeedMessage.Text(JsonSerializer.SerializeToUtf8Bytes(update, OverlayJsonContext.Default.OverlayCaption)));
    }

    /// <summary>
    /// Like <see cref="Publish(OverlayCaption)"/> for an update that is already serialised (a relay passes on what it
    /// received): <paramref name="utf8Json"/> must be one <see cref="OverlayCaption"/> of <paramref name="language"/>
    /// as UTF-8 JSON, checked by the caller; it is framed once (copied once) and sent as it is.
    /// </summary>
    public void Publish(string language, ReadOnlySpan<byte> utf8Json)
    {
        if (string.IsNullOrWhiteSpace(language))
        {
            throw new ArgumentException("The language must be named (for example \"en\").", nameof(language));
        }

        if (utf8Json.IsEmpty)
        {
            throw new ArgumentException("An update is one OverlayCaption as UTF-8 JSON, not nothing.", nameof(utf8Json));
        }

        Fan(language, FeedMessage.Text(utf8Json));
    }

    private void Fan(string language, FeedMessage message)
    {
        CaptionSubscription[] targets;
        List<CaptionSubscription>? overflowed = null;
        lock (_gate)
        {
            // The new state and the queueing are one step: a client that subscribes after it got this update from
            // Subscribe's queueing and is not a target, so it sees it exactly once; and every client's queue takes
            // updates in this lock's order, which is the order it is sent in.
            _latest[language] = message;
            targets = [.. _subscriptions.Where(s => s.Follows(language))];
            foreach (var target in targets)
            {
                if (!target.TryEnqueue(message))
                {
                    (overflowed ??= []).Add(target);
                }
            }

            if (overflowed is not null)
            {
                _subscriptions.RemoveAll(overflowed.Contains);
                UpdateKeepAlive();
            }
        }

        Interlocked.Increment(ref _published);
        if (overflowed is not null)
        {
            foreach (var subscription in overflowed)
            {
                Interlocked.Increment(ref _slowClientsDropped);
                LogSlowClientDropped(subscription.ClientName, _queueCapacity);
                subscription.Drop();
            }
        }

        Send(targets);
    }

    /// <summary>
    /// Drains the queue of every idle target, outside any lock. With many clients the sends are split across the
    /// cores (any share may drain any client: its queue and its one-sender flag keep its updates in order): the cost
    /// is the per-socket send, and node's single event loop cannot do this. The caller sends the first share itself
    /// and does not wait for the others (work items on the thread pool): a publisher never blocks a pool thread on
    /// other threads' sends, and its next update is queued behind this one for each client in any case.
    /// </summary>
    private static void Send(CaptionSubscription[] targets)
    {
        var shares = targets.Length < ParallelFromClients ? 1 : Math.Min(Environment.ProcessorCount, targets.Length / (ParallelFromClients / 2));
        for (var share = 1; share < shares; share++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(new SendShare(targets, share, shares), preferLocal: false);
        }

        new SendShare(targets, 0, shares).Execute();
    }

    /// <summary>Every <c>shares</c>-th target from <c>first</c> on: one core's part of a publish.</summary>
    private sealed class SendShare(CaptionSubscription[] targets, int first, int shares) : IThreadPoolWorkItem
    {
        public void Execute()
        {
            for (var i = first; i < targets.Length; i += shares)
            {
                targets[i].SendQueued();
            }
        }
    }

    /// <summary>
    /// Subscribes the open <paramref name="socket"/> to the languages in <paramref name="languages"/> (empty: all).
    /// The current state of each of those languages is queued first, in the same critical section as the
    /// subscription, so the client sees no gap and no repeat, and sent before this returns when the socket takes it
    /// at once. From then on the feed is the socket's only sender of data messages (one send in flight at a time); the
    /// caller keeps receiving and closing. Dispose the subscription when the client leaves, then await
    /// <see cref="CaptionSubscription.SendsEnded"/> once the socket is closed or aborted.
    /// </summary>
    public CaptionSubscription Subscribe(WebSocket socket, IReadOnlyCollection<string> languages, string clientName)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return SubscribeConnection(new WebSocketConnection(socket), languages, clientName);
    }

    /// <summary>Subscribes a connection (see <see cref="Subscribe(WebSocket, IReadOnlyCollection{string}, string)"/>).</summary>
    internal CaptionSubscription SubscribeConnection(IFeedConnection connection, IReadOnlyCollection<string> languages, string clientName)
    {
        ArgumentNullException.ThrowIfNull(languages);
        var subscription = new CaptionSubscription(this, connection, languages, clientName, _queueCapacity);
        lock (_gate)
        {
            foreach (var (language, message) in _latest)
            {
                // A fresh queue can still overflow when more languages than its capacity are current; the client
                // then starts with the first ones and catches up on the others with their next update.
                if (subscription.Follows(language) && !subscription.TryEnqueue(message))
                {
                    break;
                }
            }

            _subscriptions.Add(subscription);
            UpdateKeepAlive();
        }

        subscription.SendQueued();
        return subscription;
    }

    /// <summary>
    /// Sends a heartbeat (an empty pong, pre-framed once) every <paramref name="interval"/> to every client whose
    /// connection sends its own control frames, so idle connections and the proxies on their way stay open: one timer
    /// per feed, running only while clients are subscribed, none per client. The first call sets it.
    /// </summary>
    internal void UseKeepAlive(TimeProvider time, TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero || interval == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        lock (_gate)
        {
            if (_keepAliveTime is null)
            {
                _keepAliveTime = time;
                _keepAliveInterval = interval;
                UpdateKeepAlive();
            }
        }
    }

    /// <summary>Starts the heartbeat's timer with the first client and stops it with the last (under the lock).</summary>
    private void UpdateKeepAlive()
    {
        if (_subscriptions.Count > 0 && _keepAlive is null && _keepAliveTime is not null)
        {
            _keepAlive = _keepAliveTime.CreateTimer(static feed => ((CaptionFeed)feed!).SendHeartbeat(), this, _keepAliveInterval, _keepAliveInterval);
        }
        else if (_subscriptions.Count == 0 && _keepAlive is not null)
        {
            _keepAlive.Dispose();
            _keepAlive = null;
        }
    }

    private void SendHeartbeat()
    {
        CaptionSubscription[] targets;
        lock (_gate)
        {
            targets = [.. _subscriptions];
        }

        var sending = targets.Where(t => t.TryEnqueueControl(WebSocketFrames.Heartbeat, heartbeat: true)).ToArray();
        Send(sending);
    }

    /// <summary>The current state of every language, as last published (cleared languages included).</summary>
    public IReadOnlyList<OverlayCaption> CurrentState()
    {
        FeedMessage[] messages;
        lock (_gate)
        {
            messages = [.. _latest.Values];
        }

        return [.. messages.Select(m => JsonSerializer.Deserialize(m.Payload.Span, OverlayJsonContext.Default.OverlayCaption)!)];
    }

    internal void Remove(CaptionSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions.Remove(subscription);
            UpdateKeepAlive();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Overlay client {Client} could not keep up ({Capacity} updates queued); disconnecting it")]
    private partial void LogSlowClientDropped(string client, int capacity);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Overlay client {Client} went away while sending")]
    internal partial void LogSendFailed(Exception exception, string client);
}

/// <summary>
/// One client's place in the <see cref="CaptionFeed"/>: its connection, and a bounded queue of framed updates waiting
/// to be sent, plus one slot for a control frame (a pong, the heartbeat, the close frame) on connections that write
/// frames themselves. One sender at a time drains them (a flag under this subscription's lock, never held across a
/// send): the publisher that finds the client idle sends on its own thread while the sends complete at once; a send
/// that stays pending hands the rest to its continuation, and the client is idle again once nothing is waiting.
/// </summary>
public sealed class CaptionSubscription : IDisposable
{
    private readonly CaptionFeed _feed;
    private readonly IFeedConnection _connection;
    private readonly string[] _languages;
    private readonly int _capacity;
    private readonly Lock _sync = new();
    private readonly Queue<FeedMessage> _waiting = new();
    private readonly CancellationTokenSource _ended = new();
    private FeedMessage? _control;
    private bool _sending;
    private bool _left;
    private bool _closeQueued;
    private bool _finished;
    private long _senderTurns;
    private Task _sender = Task.CompletedTask;

    internal CaptionSubscription(CaptionFeed feed, IFeedConnection connection, IReadOnlyCollection<string> languages, string clientName, int capacity)
    {
        _feed = feed;
        _connection = connection;
        // Usually one language, a few at most: an array is smaller than a set, and as fast at this size.
        _languages = [.. languages.Distinct(StringComparer.OrdinalIgnoreCase)];
        ClientName = clientName;
        _capacity = capacity;
    }

    /// <summary>A name for logs (for example the remote endpoint).</summary>
    public string ClientName { get; }

    /// <summary>Cancelled when the feed is done with this client: dropped for being too slow, or a send failed.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>True when the feed dropped this client because its queue was full (then abort, do not close politely).</summary>
    public bool WasDropped { get; private set; }

    /// <summary>Updates waiting to be sent now (behind a pending send).</summary>
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

    /// <summary>
    /// Completes when the send that was pending last has ended. After <see cref="Dispose"/> no update is sent, so once
    /// the socket is closed or aborted (which ends a stuck send) this is when the feed is done with the socket.
    /// </summary>
    public Task SendsEnded
    {
        get
        {
            lock (_sync)
            {
                return _sender;
            }
        }
    }

    internal bool Follows(string language)
    {
        if (_languages.Length == 0)
        {
            return true;
        }

        foreach (var followed in _languages)
        {
            if (string.Equals(followed, language, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Queues <paramref name="message"/> (nothing is sent here); false when the queue is full.</summary>
    internal bool TryEnqueue(FeedMessage message)
    {
        lock (_sync)
        {
            if (_left)
            {
                return true;
            }

            if (_waiting.Count >= _capacity)
            {
                return false;
            }

            _waiting.Enqueue(message);
            return true;
        }
    }

    /// <summary>
    /// Puts a control frame in the control slot, sent before the next queued update (nothing is sent here): a pong
    /// replaces an unsent one (RFC 6455 lets the latest ping's pong stand for all), a heartbeat goes only into an empty
    /// slot, a close frame drops the queued updates and is the last frame sent. False when it was not taken (the
    /// connection frames its own control frames, a close is already on its way, or the slot holds something).
    /// </summary>
    internal bool TryEnqueueControl(FeedMessage control, bool heartbeat = false)
    {
        if (!_connection.SendsControlFrames)
        {
            return false;
        }

        lock (_sync)
        {
            if (_finished || _closeQueued || (heartbeat && _control is not null))
            {
                return false;
            }

            if (control.IsClose)
            {
                _closeQueued = true;
                _left = true;
                _waiting.Clear();
            }

            _control = control;
            return true;
        }
    }

    /// <summary>Queues a control frame and sends it (see <see cref="TryEnqueueControl"/>).</summary>
    internal void SendControl(FeedMessage control)
    {
        if (TryEnqueueControl(control))
        {
            SendQueued();
        }
    }

    /// <summary>
    /// Sends what is queued, on the calling thread while the connection takes each message at once, unless another
    /// sender is at work (it sends what was queued meanwhile before it stops).
    /// </summary>
    internal void SendQueued()
    {
        long turn;
        lock (_sync)
        {
            if (_sending || _finished || (_control is null && (_left || _waiting.Count == 0)))
            {
                return;
            }

            _sending = true;
            turn = ++_senderTurns;
        }

        var sending = SendAllAsync();
        if (!sending.IsCompletedSuccessfully)
        {
            lock (_sync)
            {
                // A later sender starts only after this one let go of the queue; if one did, it keeps its own task.
                if (_senderTurns == turn)
                {
                    _sender = sending;
                }
            }
        }
    }

    internal void Drop()
    {
        WasDropped = true;
        Finish();
        _ended.Cancel();
    }

    /// <summary>
    /// Leaves the feed; no update is sent after this (one in flight may still finish, see <see cref="SendsEnded"/>). A
    /// close frame may still follow on a connection that writes its own frames.
    /// </summary>
    public void Dispose()
    {
        _feed.Remove(this);
        lock (_sync)
        {
            _left = true;
            _waiting.Clear();
        }

        // _ended is not disposed: the feed may still cancel it from Publish after the client left, and a
        // CancellationTokenSource without a timer holds nothing that needs releasing.
    }

    /// <summary>
    /// The one sender's loop. Completes synchronously (no allocation, no thread hop) while every send does; the first
    /// send that stays pending makes its continuation the sender. No cancellation token on the send: a stuck send
    /// ends when the connection is closed or aborted.
    /// </summary>
    private async Task SendAllAsync()
    {
        try
        {
            while (TakeNext(out var next))
            {
                await _connection.SendAsync(next);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            Fail(ex);
        }
    }

    /// <summary>The control frame, else the next queued update; false (and the client idle again) when there is none.</summary>
    private bool TakeNext(out FeedMessage next)
    {
        lock (_sync)
        {
            if (!_finished && _control is { } control)
            {
                _control = null;
                // Nothing may follow a close frame.
                _finished = control.IsClose;
                next = control;
                return true;
            }

            if (_finished || _left || !_waiting.TryDequeue(out next!))
            {
                next = null!;
                _sending = false;
                return false;
            }

            return true;
        }
    }

    private void Fail(Exception exception)
    {
        bool wasLeft;
        lock (_sync)
        {
            wasLeft = _left;
            _sending = false;
        }

        if (!wasLeft)
        {
            _feed.LogSendFailed(exception, ClientName);
        }

        Finish();
        _ended.Cancel();
    }

    private void Finish()
    {
        lock (_sync)
        {
            _left = true;
            _finished = true;
            _control = null;
            _waiting.Clear();
        }
    }
}
